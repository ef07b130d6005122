import { Counter, Gauge, type Registry } from 'prom-client';
import { NATS_FAMILIES } from './metric-families.js';

/** What the NATS families read of the connection (ConnectionState). */
export interface NatsConnectionView {
  readonly connected: boolean;
  /** node -> bootstrap requests that went unanswered. */
  readonly bootstrapFailures: ReadonlyMap<string, number>;
}

/** The NATS connection: whether it is up, and the bootstrap requests nobody answered. */
export function registerNatsCollector(registry: Registry, connection: NatsConnectionView): void {
  const connected = NATS_FAMILIES.connected;
  new Gauge({
    name: connected.name,
    help: connected.help,
    registers: [registry],
    collect() {
      this.set(connection.connected ? 1 : 0);
    },
  });
  const failures = NATS_FAMILIES.bootstrapFailuresTotal;
  new Counter({
    name: failures.name,
    help: failures.help,
    labelNames: failures.labels,
    registers: [registry],
    collect() {
      // Counted by the bootstrap as plain numbers; values computed at scrape time.
      this.reset();
      for (const [node, count] of connection.bootstrapFailures) this.inc({ node }, count);
    },
  });
}

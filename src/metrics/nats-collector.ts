import { Counter, Gauge, type Registry } from 'prom-client';
import type { ConnectionState } from '../nats/connection-state.js';
import { NATS_FAMILIES } from './metric-families.js';

/** The NATS connection: whether it is up, and the bootstrap requests nobody answered. */
export function registerNatsCollector(registry: Registry, connection: ConnectionState): void {
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

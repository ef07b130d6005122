import { Gauge, type Registry } from 'prom-client';
import type { ConnectionState } from '../nats/connection-state.js';
import { NATS_FAMILIES } from './metric-families.js';

/** Whether the NATS connection is up. */
export function registerNatsCollector(registry: Registry, connection: ConnectionState): void {
  const family = NATS_FAMILIES.connected;
  new Gauge({
    name: family.name,
    help: family.help,
    registers: [registry],
    collect() {
      this.set(connection.connected ? 1 : 0);
    },
  });
}

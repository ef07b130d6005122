import { Counter, type Registry } from 'prom-client';
import type { NodeStores } from '../store/node-stores.js';
import { INGEST_FAMILIES } from './metric-families.js';

/** What the ingest families read of the ingest's counts (IngestStats). */
export interface IngestCounts {
  /** node -> kind -> lnd event type -> messages applied. */
  readonly applied: ReadonlyMap<string, ReadonlyMap<string, ReadonlyMap<string, number>>>;
  /** reason -> messages rejected; every reason present from the start. */
  readonly rejected: ReadonlyMap<string, number>;
}

/**
 * Applied, rejected and reordered events: a few series per node, so prom-client
 * renders them, reading the live counts at scrape time.
 */
export function registerIngestCollector(
  registry: Registry,
  ingest: IngestCounts,
  stores: NodeStores,
): void {
  const { eventsTotal, eventsRejectedTotal, eventsReorderedTotal } = INGEST_FAMILIES;
  new Counter({
    name: eventsTotal.name,
    help: eventsTotal.help,
    labelNames: eventsTotal.labels,
    registers: [registry],
    collect() {
      this.reset();
      for (const [node, byKind] of ingest.applied) {
        for (const [kind, byType] of byKind) {
          for (const [type, count] of byType) this.inc({ node, kind, type }, count);
        }
      }
    },
  });
  new Counter({
    name: eventsRejectedTotal.name,
    help: eventsRejectedTotal.help,
    labelNames: eventsRejectedTotal.labels,
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, count] of ingest.rejected) this.inc({ reason }, count);
    },
  });
  new Counter({
    name: eventsReorderedTotal.name,
    help: eventsReorderedTotal.help,
    labelNames: eventsReorderedTotal.labels,
    registers: [registry],
    collect() {
      this.reset();
      for (const store of stores.values()) this.inc({ node: store.node }, store.reorderedTotal);
    },
  });
}

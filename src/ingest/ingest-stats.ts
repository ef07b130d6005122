import { REJECT_REASONS, type RejectReason } from './reject-reason.js';

export type EventKind = 'channel' | 'peer';

/**
 * Counts of ingested messages, kept as plain numbers and read by the metrics
 * collector at scrape time.
 */
export class IngestStats {
  /** node -> kind -> lnd event type -> messages applied. */
  readonly applied = new Map<string, Map<EventKind, Map<string, number>>>();
  /** reason -> messages rejected; every reason present from the start. */
  readonly rejected = new Map<RejectReason, number>(REJECT_REASONS.map((r) => [r, 0]));

  countApplied(node: string, kind: EventKind, type: string): void {
    let byKind = this.applied.get(node);
    if (byKind === undefined) {
      byKind = new Map();
      this.applied.set(node, byKind);
    }
    let byType = byKind.get(kind);
    if (byType === undefined) {
      byType = new Map();
      byKind.set(kind, byType);
    }
    byType.set(type, (byType.get(type) ?? 0) + 1);
  }

  countRejected(reason: RejectReason): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }
}

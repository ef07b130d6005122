import { REJECT_REASONS, type RejectReason } from '../lnd/reject-reason.js';

/** What a message is: a channel or peer event, or the bridge's status of its lnd. */
export type EventKind = 'channel' | 'peer' | 'status';

/** A count of one node, kind and type. */
interface Cell {
  count: number;
}

/**
 * The applied counts of one node, which the ingest keeps at hand: counting an
 * event costs two small map lookups and no allocation.
 */
export class NodeAppliedCounts {
  private readonly byKind = new Map<EventKind, Map<string, Cell>>();

  count(kind: EventKind, type: string): void {
    let byType = this.byKind.get(kind);
    if (byType === undefined) {
      byType = new Map();
      this.byKind.set(kind, byType);
    }
    const cell = byType.get(type);
    if (cell === undefined) byType.set(type, { count: 1 });
    else cell.count += 1;
  }

  /** kind -> type -> count, in the order they were first counted. */
  snapshot(): Map<EventKind, Map<string, number>> {
    const out = new Map<EventKind, Map<string, number>>();
    for (const [kind, byType] of this.byKind) {
      out.set(kind, new Map([...byType].map(([type, cell]) => [type, cell.count] as const)));
    }
    return out;
  }
}

/**
 * Counts of ingested messages, kept as plain numbers and read by the metrics
 * collector at scrape time.
 */
export class IngestStats {
  private readonly nodes = new Map<string, NodeAppliedCounts>();
  /** reason -> messages rejected; every reason present from the start. */
  readonly rejected = new Map<RejectReason, number>(REJECT_REASONS.map((r) => [r, 0]));

  /** node -> kind -> lnd event type -> messages applied (a copy, made when read). */
  get applied(): Map<string, Map<EventKind, Map<string, number>>> {
    const out = new Map<string, Map<EventKind, Map<string, number>>>();
    for (const [node, counts] of this.nodes) out.set(node, counts.snapshot());
    return out;
  }

  /** The counts of one node, to keep at hand while counting its events. */
  nodeCounts(node: string): NodeAppliedCounts {
    let counts = this.nodes.get(node);
    if (counts === undefined) {
      counts = new NodeAppliedCounts();
      this.nodes.set(node, counts);
    }
    return counts;
  }

  countApplied(node: string, kind: EventKind, type: string): void {
    this.nodeCounts(node).count(kind, type);
  }

  countRejected(reason: RejectReason): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }
}

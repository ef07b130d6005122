import type { RejectReason } from '../lnd/reject-reason.js';

/** --nats.max-nodes when not given. */
export const DEFAULT_MAX_NODES = 100;

/** Why the events of a node are refused: the `reason` they are counted under. */
export type NodeRefusal = Extract<RejectReason, 'node_not_allowed' | 'too_many_nodes'>;

export interface NodeAdmissionOptions {
  /** --nats.nodes when given: the only nodes whose events are taken. */
  readonly allowed?: readonly string[] | undefined;
  /** --nats.max-nodes: distinct nodes tracked at most (restored ones included). */
  readonly maxNodes?: number | undefined;
}

/** The nodes tracked so far: the stores, those restored from history included. */
export interface TrackedNodes {
  has(node: string): boolean;
  readonly size: number;
}

/**
 * Which node names may have a store. Any publisher on NATS names a node by
 * the subject it publishes on, and each node costs a store, two bootstrap
 * requests (and their retries), metric series and log lines: without this,
 * one publisher looping over names makes all of them without bound.
 */
export class NodeAdmission {
  private readonly allowed: ReadonlySet<string> | undefined;
  readonly maxNodes: number;
  /** The log text of each refusal, made once: a flood of refusals builds no string. */
  private readonly explanations: Readonly<Record<NodeRefusal, string>>;

  constructor(
    private readonly tracked: TrackedNodes,
    options: NodeAdmissionOptions = {},
  ) {
    const allowed = options.allowed;
    this.allowed = allowed === undefined || allowed.length === 0 ? undefined : new Set(allowed);
    this.maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
    this.explanations = {
      node_not_allowed: 'not one of the nodes named by --nats.nodes (NATS_NODES)',
      too_many_nodes: `${this.maxNodes} nodes are tracked already, the most --nats.max-nodes (NATS_MAX_NODES) allows`,
    };
  }

  /**
   * Why the events of this node are refused, or undefined when they are
   * taken. With an allow-list, exactly its nodes are taken (the settings keep
   * it within --nats.max-nodes), so that nodes restored from an earlier
   * configuration never crowd out a named one; without one, a node already
   * tracked, or a new one while fewer than the maximum are.
   */
  refusal(node: string): NodeRefusal | undefined {
    if (this.allowed !== undefined) return this.allowed.has(node) ? undefined : 'node_not_allowed';
    if (this.tracked.has(node) || this.tracked.size < this.maxNodes) return undefined;
    return 'too_many_nodes';
  }

  /** For the log line of a refusal. */
  explain(refusal: NodeRefusal): string {
    return this.explanations[refusal];
  }
}

import { NodeSimulation, type DemoMessage } from './node-simulation.js';

export { NodeSimulation } from './node-simulation.js';
export type { DemoMessage, DemoSubject, SimulatedPeer } from './node-simulation.js';

export interface SimulationOptions {
  /** Node names, each one subject token. */
  readonly nodes: readonly string[];
  readonly seed: number;
  /** Simulated time at which the nodes start (ms since the epoch). */
  readonly start: number;
  /** Peers per node (default 40). */
  readonly peers?: number;
  /** Open channels each node keeps (default 80). */
  readonly channels?: number;
}

/**
 * Several simulated lnd nodes on one simulated clock: a deterministic stream of
 * lnd channel and peer event messages for the demo, benchmarks and end-to-end
 * tests. Each node has its own RNG stream, so adding a node changes no other.
 */
export class DemoSimulation {
  readonly nodes: readonly NodeSimulation[];

  constructor(options: SimulationOptions) {
    this.nodes = options.nodes.map(
      (node) =>
        new NodeSimulation({
          node,
          seed: options.seed,
          start: options.start,
          peers: options.peers,
          channels: options.channels,
        }),
    );
  }

  /**
   * The messages of every node up to and including `until`, in time order
   * (a node's own messages keep their order), made lazily. Once exhausted,
   * every node's clock reads `until`.
   */
  *messagesUntil(until: number): Generator<DemoMessage, void, undefined> {
    for (;;) {
      let earliest: NodeSimulation | undefined;
      for (const node of this.nodes) {
        if (
          node.nextTime() <= until &&
          (earliest === undefined || node.nextTime() < earliest.nextTime())
        ) {
          earliest = node;
        }
      }
      if (earliest === undefined) break;
      yield* earliest.step();
    }
    for (const node of this.nodes) node.advanceTo(until);
  }

  /** Every message up to and including `until`, in time order. */
  advanceTo(until: number): DemoMessage[] {
    return [...this.messagesUntil(until)];
  }
}

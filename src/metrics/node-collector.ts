import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import { NODE_FAMILIES } from './metric-families.js';

/** What the node families read of each node's store. */
export interface ObservedNode {
  readonly node: string;
  /** False while the node is in a gap (lnd, its bridge or this exporter was down). */
  observedAt(now: number): boolean;
  /** Unobserved time up to now, ms. */
  unobservedTotal(now: number): number;
}

export interface ObservedNodes {
  values(): Iterable<ObservedNode>;
}

/** Per node: whether it is observed now, and how long it was not (SPEC 4.4). */
export function registerNodeCollector(
  registry: Registry,
  nodes: ObservedNodes,
  clock: Clock,
): void {
  const observed = NODE_FAMILIES.observed;
  new Gauge({
    name: observed.name,
    help: observed.help,
    labelNames: observed.labels,
    registers: [registry],
    collect() {
      this.reset();
      const now = clock.now();
      for (const store of nodes.values()) {
        this.set({ node: store.node }, store.observedAt(now) ? 1 : 0);
      }
    },
  });
  const unobserved = NODE_FAMILIES.unobservedSecondsTotal;
  new Counter({
    name: unobserved.name,
    help: unobserved.help,
    labelNames: unobserved.labels,
    registers: [registry],
    collect() {
      // Kept by the store as gap spans; values computed at scrape time.
      this.reset();
      const now = clock.now();
      for (const store of nodes.values()) {
        this.inc({ node: store.node }, store.unobservedTotal(now) / 1000);
      }
    },
  });
}

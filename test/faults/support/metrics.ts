import { parseExposition, type Family } from '../../metrics/text-format-parser.js';

/** One scrape of the exporter's /metrics, parsed strictly. */
export class Scrape {
  constructor(readonly families: ReadonlyMap<string, Family>) {}

  static async of(exporterUrl: string): Promise<Scrape> {
    const response = await fetch(`${exporterUrl}/metrics`);
    if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
    return new Scrape(parseExposition(await response.text()));
  }

  /** Sum of the family's samples whose labels include `labels` (0 when none). */
  sum(name: string, labels: Readonly<Record<string, string>> = {}): number {
    let total = 0;
    for (const sample of this.families.get(name)?.samples ?? []) {
      if (sample.name !== name) continue;
      if (Object.entries(labels).every(([k, v]) => sample.labels[k] === v)) total += sample.value;
    }
    return total;
  }

  /** The value of each sample, keyed by one of its labels (e.g. peer -> flap count). */
  byLabel(
    name: string,
    label: string,
    filter: Readonly<Record<string, string>> = {},
  ): Map<string, number> {
    const out = new Map<string, number>();
    for (const sample of this.families.get(name)?.samples ?? []) {
      if (sample.name !== name) continue;
      if (!Object.entries(filter).every(([k, v]) => sample.labels[k] === v)) continue;
      const key = sample.labels[label];
      if (key !== undefined) out.set(key, sample.value);
    }
    return out;
  }

  /** chanfitness_events_total over every node, kind and type: messages applied. */
  get applied(): number {
    return this.sum('chanfitness_events_total');
  }

  /** chanfitness_events_rejected_total over every reason. */
  get rejected(): number {
    return this.sum('chanfitness_events_rejected_total');
  }

  rejectedBy(reason: string): number {
    return this.sum('chanfitness_events_rejected_total', { reason });
  }

  flushes(result: 'success' | 'error'): number {
    return this.sum('chanfitness_flap_flushes_total', { result });
  }

  /** Peer -> chanfitness_peer_flap_count of one node. */
  flapCounts(node: string): Map<string, number> {
    return this.byLabel('chanfitness_peer_flap_count', 'peer', { node });
  }
}

/** The exporter's scrape, or undefined while it cannot be reached. */
export async function tryScrape(exporterUrl: string): Promise<Scrape | undefined> {
  try {
    return await Scrape.of(exporterUrl);
  } catch {
    return undefined;
  }
}

import type { Gap, GapReason, ObservationImage } from '../store/node-observation.js';
import { HISTORY_FORMAT, HistoryCorruptError } from './history-format.js';
import { checkFormat, num, record } from './history-validation.js';

/** A node's gaps as stored: [start, end or null, reason]. */
interface StoredObservation {
  readonly v: number;
  /** Unobserved time of the gaps compacted away. */
  readonly b: number;
  /** End of the last gap compacted away, when one was. */
  readonly cu?: number;
  readonly g: [number, number | null, GapReason][];
  /** 1 when the last gap's end is only planned (the node is back, settling). */
  readonly s: 0 | 1;
}

const GAP_REASONS: readonly GapReason[] = ['LND_DOWN', 'BRIDGE_SILENT', 'EXPORTER_DOWN'];

/** The node's gaps, without its latest status (which the manifest carries). */
export function encodeObservation(image: ObservationImage): StoredObservation {
  return {
    v: HISTORY_FORMAT,
    b: image.base,
    ...(image.compactedUntil === undefined ? {} : { cu: image.compactedUntil }),
    g: image.gaps.map((gap) => [gap.start, gap.end ?? null, gap.reason]),
    s: image.settling ? 1 : 0,
  };
}

export function decodeObservation(
  value: unknown,
  lastStatus: number | undefined,
  what: string,
): ObservationImage {
  const o = record(value, what);
  checkFormat(o.v, what);
  if (!Array.isArray(o.g)) throw new HistoryCorruptError(`${what}: gaps are not a list`);
  const gaps: Gap[] = o.g.map((entry: unknown, i) => {
    if (
      !Array.isArray(entry) ||
      entry.length !== 3 ||
      !GAP_REASONS.includes(entry[2] as GapReason)
    ) {
      throw new HistoryCorruptError(`${what}: gap ${i} is not [start, end, reason]`);
    }
    return {
      start: num(entry[0], `${what}.g[${i}]`),
      end: entry[1] === null ? undefined : num(entry[1], `${what}.g[${i}]`),
      reason: entry[2] as GapReason,
    };
  });
  if (o.s !== 0 && o.s !== 1) throw new HistoryCorruptError(`${what}: bad settling flag`);
  return {
    base: num(o.b, `${what}.b`),
    compactedUntil: o.cu === undefined ? undefined : num(o.cu, `${what}.cu`),
    gaps,
    settling: o.s === 1,
    lastStatus,
  };
}

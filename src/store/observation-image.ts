import { StoreError } from './errors.js';

/** Why nobody observed a node during a gap. */
export type GapReason = 'LND_DOWN' | 'BRIDGE_SILENT' | 'EXPORTER_DOWN';

/** A span of event time during which a node was not observed; `end` undefined while it lasts. */
export interface Gap {
  readonly start: number;
  readonly end: number | undefined;
  readonly reason: GapReason;
}

/** The persisted form of a node's observation (see NodeObservation.image). */
export interface ObservationImage {
  /** Unobserved time of the gaps compacted away (before the first one kept). */
  readonly base: number;
  /** End of the last gap compacted away; undefined when none was. */
  readonly compactedUntil?: number | undefined;
  /** Gaps oldest first; the last one's end is null while it lasts. */
  readonly gaps: readonly Gap[];
  /** The last gap's end is only planned (the node is back, the settle time runs). */
  readonly settling: boolean;
  /** Time of the node's latest status; undefined when it never sent one. */
  readonly lastStatus: number | undefined;
}

/** A node's gaps as NodeObservation keeps them: in columns, with running totals. */
export interface GapColumns {
  readonly starts: number[];
  /** Infinity while the last gap is open. */
  readonly ends: number[];
  readonly reasons: GapReason[];
  /** Unobserved time before each gap's start. */
  readonly before: number[];
  readonly base: number;
  /** End of the last gap compacted away, -Infinity when none was. */
  readonly compactedUntil: number;
  readonly settling: boolean;
  readonly lastStatusAt: number | undefined;
}

const GAP_REASONS: Readonly<Record<GapReason, true>> = {
  LND_DOWN: true,
  BRIDGE_SILENT: true,
  EXPORTER_DOWN: true,
};

/**
 * The columns of a persisted image, checked: INVALID_STATE for gaps that
 * overlap or run backwards, and for anything but finite numbers and known
 * reasons.
 */
export function gapColumnsOf(image: ObservationImage): GapColumns {
  // Finite numbers and known reasons only (fix: an unknown reason, an
  // infinite start or a NaN last status / compaction end were accepted).
  if (!(image.base >= 0) || !Number.isFinite(image.base)) {
    throw new StoreError('INVALID_STATE', 'negative unobserved time');
  }
  if (!optionalFinite(image.compactedUntil) || !optionalFinite(image.lastStatus)) {
    throw new StoreError('INVALID_STATE', 'observation times are not finite');
  }
  const starts: number[] = [];
  const ends: number[] = [];
  const reasons: GapReason[] = [];
  const before: number[] = [];
  let prevEnd = image.compactedUntil ?? -Infinity;
  let total = image.base;
  image.gaps.forEach((gap, i) => {
    const last = i === image.gaps.length - 1;
    const end = gap.end ?? Infinity;
    if (!Number.isFinite(gap.start) || !Object.hasOwn(GAP_REASONS, gap.reason)) {
      throw new StoreError('INVALID_STATE', 'observation gap of an unknown form');
    }
    if (!(gap.start >= prevEnd) || !(end >= gap.start) || (end === Infinity && !last)) {
      throw new StoreError('INVALID_STATE', 'observation gaps overlap or run backwards');
    }
    starts.push(gap.start);
    ends.push(end);
    reasons.push(gap.reason);
    before.push(total);
    if (end !== Infinity) total += end - gap.start;
    prevEnd = end;
  });
  return {
    starts,
    ends,
    reasons,
    before,
    base: image.base,
    compactedUntil: image.compactedUntil ?? -Infinity,
    settling: image.settling && ends.length > 0 && ends[ends.length - 1] !== Infinity,
    lastStatusAt: image.lastStatus,
  };
}

/** Undefined (or null, as JSON has it) or a finite number. */
function optionalFinite(value: unknown): boolean {
  return value === undefined || value === null || Number.isFinite(value);
}

import type { ChannelEventStore, ChannelInfo } from '../store/channel-event-store.js';
import type { ChannelView } from '../store/peer-monitor.js';
import { lifetimeAt } from './channel-page.js';
import { badUserInput } from './errors.js';
import { KeysetSelection, type KeyedPosition, type SelectedPage } from './keyset-selection.js';
import {
  lowerOutlierBound,
  MIN_QUARTILE_VALUES,
  quartilesOf,
  type Quartiles,
} from './quartiles.js';

/** The CloseCandidateOrder enum of the schema. */
export const CLOSE_CANDIDATE_ORDERS = ['RATIO_ASC', 'RATIO_DESC', 'RECOMMENDED_FIRST'] as const;
export type CloseCandidateOrder = (typeof CLOSE_CANDIDATE_ORDERS)[number];

/** The CloseRecommendationMode enum of the schema. */
export type CloseMode = 'OUTLIER' | 'THRESHOLD';

/** The NoCloseReason enum of the schema: why a node has no channel recommended. */
export type NoCloseReason =
  | 'NO_CHANNELS'
  | 'NONE_MONITORED_LONG_ENOUGH'
  | 'TOO_FEW_CONSIDERED'
  | 'NO_OUTLIERS'
  | 'NONE_AT_OR_BELOW_THRESHOLD';

/** How channels are judged (validated by the resolver). */
export interface ClosePolicy {
  /** Least lifetime (ms) for a channel to be considered; positive. */
  readonly minMonitored: number;
  /** Threshold mode when set: ratios at or below it are recommended. */
  readonly threshold: number | undefined;
  /** Outlier mode: ratios below Q1 - outlierMultiplier x IQR are recommended. */
  readonly outlierMultiplier: number;
  /** When set, ratios are over [at - window, at] clamped to the lifetime, not the lifetime. */
  readonly window: number | undefined;
}

export interface QuartilesResult extends Quartiles {
  readonly lowerBound: number;
}

/** One node's analysis: faraday judges one node's channels among themselves. */
export interface NodeCloseAnalysis {
  readonly node: string;
  readonly channelCount: number;
  readonly consideredCount: number;
  readonly recommendedCount: number;
  readonly quartiles: QuartilesResult | null;
  readonly reason: NoCloseReason | null;
}

/** A considered channel on the page, with the ratio its recommendation was made on. */
export interface CandidateEntry {
  readonly rank: number;
  readonly node: string;
  readonly channelPoint: string;
  readonly store: ChannelEventStore;
  readonly view: ChannelView;
  readonly ratio: number;
  readonly recommended: boolean;
  /** The channel's lifetime and uptime at the analysis' instant, when they were computed. */
  readonly info: ChannelInfo | undefined;
}

export interface CloseAnalysisQuery {
  readonly order: CloseCandidateOrder;
  readonly first: number;
  /** Only candidates after this position are listed. */
  readonly after: KeyedPosition | undefined;
  /** The instant ratios are computed at. */
  readonly at: number;
}

export interface CloseAnalysis {
  /** By node id. */
  readonly nodes: NodeCloseAnalysis[];
  /** totalCount counts the considered channels of every node. */
  readonly page: SelectedPage<CandidateEntry>;
}

/** A node's considered channels and their ratios, index by index. */
interface Considered {
  readonly channelCount: number;
  readonly views: ChannelView[];
  readonly ratios: number[];
  /** Lifetime-mode figures, for the page's Channel objects (windows have other figures). */
  readonly infos: ChannelInfo[] | undefined;
}

/**
 * The channels of a store monitored at least minMonitored at `at` (the
 * store's lifetime, as faraday's MonitoredFor), with their uptime ratio:
 * over the lifetime, or over the window clamped to it.
 */
function consider(store: ChannelEventStore, policy: ClosePolicy, at: number): Considered {
  const views: ChannelView[] = [];
  const ratios: number[] = [];
  const window = policy.window;
  if (window === undefined) {
    // Every channel's lifetime and uptime in one pass; the arrays are reused by the next call.
    const { channels, lifetime, uptime, count } = store.channelUptimes(at);
    const infos: ChannelInfo[] = [];
    for (let i = 0; i < count; i++) {
      const l = lifetime[i] as number;
      if (!(l >= policy.minMonitored)) continue;
      const u = uptime[i] as number;
      views.push(channels[i] as ChannelView);
      ratios.push(u / l);
      infos.push({ lifetime: l, uptime: u });
    }
    return { channelCount: count, views, ratios, infos };
  }
  for (const view of store.channels()) {
    // Monitored: the lifetime, observed time as in lifetime mode.
    if (!(lifetimeAt(view, at) >= policy.minMonitored)) continue;
    const clamped = store.channelUptime(view, at - window, at);
    // Nothing observed only when retention compacted the whole window away, or
    // the node was not observed at all in it: no ratio to judge.
    if (!(clamped.observed > 0)) continue;
    views.push(view);
    ratios.push(clamped.uptime / clamped.observed);
  }
  return { channelCount: store.channelCount, views, ratios, infos: undefined };
}

/** Whether a ratio is recommended, given the node's lower outlier bound in outlier mode. */
type Judge = (ratio: number) => boolean;

function judgeOf(
  policy: ClosePolicy,
  ratios: readonly number[],
): { judge: Judge; quartiles: QuartilesResult | null } {
  const threshold = policy.threshold;
  // faraday's threshold recommendations take values at or below the threshold.
  if (threshold !== undefined) return { judge: (r) => r <= threshold, quartiles: null };
  const quartiles = quartilesOf(Float64Array.from(ratios).sort());
  if (quartiles === undefined) return { judge: () => false, quartiles: null };
  const lowerBound = lowerOutlierBound(quartiles, policy.outlierMultiplier);
  return { judge: (r) => r < lowerBound, quartiles: { ...quartiles, lowerBound } };
}

function reasonOf(
  policy: ClosePolicy,
  considered: Considered,
  recommendedCount: number,
): NoCloseReason | null {
  if (recommendedCount > 0) return null;
  if (considered.channelCount === 0) return 'NO_CHANNELS';
  const count = considered.views.length;
  if (count === 0) return 'NONE_MONITORED_LONG_ENOUGH';
  if (policy.threshold !== undefined) return 'NONE_AT_OR_BELOW_THRESHOLD';
  return count < MIN_QUARTILE_VALUES ? 'TOO_FEW_CONSIDERED' : 'NO_OUTLIERS';
}

/**
 * A candidate's rank in an order, ascending. Ratios are in [0, 1], so that
 * RECOMMENDED_FIRST puts every recommended channel (0 + ratio) before every
 * other (2 + ratio): across nodes, whose bounds differ, recommended channels
 * are not simply the lowest ratios.
 */
function rankOf(order: CloseCandidateOrder, ratio: number, recommended: boolean): number {
  switch (order) {
    case 'RATIO_ASC':
      return ratio;
    case 'RATIO_DESC':
      return -ratio;
    case 'RECOMMENDED_FIRST':
      return (recommended ? 0 : 2) + ratio;
  }
}

/**
 * faraday's close recommendations, node by node, at one instant, and one
 * page of the considered channels in order (KeysetSelection, as channels are
 * paged). Every page recomputes the whole analysis at the listing's instant,
 * so that the quartiles and recommendations of all its pages agree.
 */
export function analyseClose(
  stores: Iterable<ChannelEventStore>,
  policy: ClosePolicy,
  query: CloseAnalysisQuery,
): CloseAnalysis {
  const selection = new KeysetSelection<CandidateEntry>(query.first, query.after, channelPointOf);
  const nodes: NodeCloseAnalysis[] = [];
  for (const store of [...stores].sort(byNode)) {
    const considered = consider(store, policy, query.at);
    const { views, ratios, infos } = considered;
    const { judge, quartiles } = judgeOf(policy, ratios);
    const node = store.node;
    let recommendedCount = 0;
    for (let i = 0; i < views.length; i++) {
      const ratio = ratios[i] as number;
      const recommended = judge(ratio);
      if (recommended) recommendedCount++;
      const rank = rankOf(query.order, ratio, recommended);
      if (selection.dropped(rank)) continue;
      const view = views[i] as ChannelView;
      const channelPoint = view.channelPoint;
      if (!selection.admits(rank, node, channelPoint)) continue;
      const info = infos?.[i];
      selection.add({ rank, node, channelPoint, store, view, ratio, recommended, info });
    }
    nodes.push({
      node,
      channelCount: considered.channelCount,
      consideredCount: views.length,
      recommendedCount,
      quartiles,
      reason: reasonOf(policy, considered, recommendedCount),
    });
  }
  return { nodes, page: selection.page() };
}

function byNode(a: ChannelEventStore, b: ChannelEventStore): number {
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

function channelPointOf(entry: CandidateEntry): string {
  return entry.channelPoint;
}

/** faraday's default minimum monitored time: four weeks. */
export const DEFAULT_MIN_MONITORED_MS = 28 * 86_400_000;

/** faraday's default outlier multiplier ("strong" outliers). */
export const DEFAULT_OUTLIER_MULTIPLIER = 3;

/** The arguments of `closeRecommendations` that make its policy (Durations in ms). */
export interface ClosePolicyArgs {
  readonly minMonitored?: number | null;
  readonly threshold?: number | null;
  readonly outlierMultiplier?: number | null;
  readonly window?: number | null;
}

/**
 * The policy the arguments ask for, null meaning the default; BAD_USER_INPUT
 * for a threshold outside [0, 1] (ratios are) or a multiplier that is not
 * positive (faraday's minimum). Durations are positive (the scalar).
 */
export function closePolicy(args: ClosePolicyArgs): ClosePolicy {
  const threshold = args.threshold ?? undefined;
  if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) {
    throw badUserInput(`threshold must be an uptime ratio in [0, 1], got ${threshold}`);
  }
  const outlierMultiplier = args.outlierMultiplier ?? DEFAULT_OUTLIER_MULTIPLIER;
  if (!(outlierMultiplier > 0)) {
    throw badUserInput(`outlierMultiplier must be greater than 0, got ${outlierMultiplier}`);
  }
  return {
    minMonitored: args.minMonitored ?? DEFAULT_MIN_MONITORED_MS,
    threshold,
    outlierMultiplier,
    window: args.window ?? undefined,
  };
}

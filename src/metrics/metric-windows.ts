/** A window of chanfitness_channel_window_uptime_ratio: the last `durationMs` up to the scrape. */
export interface MetricWindow {
  /** The `window` label value, the duration in canonical form (`1d`, `12h`, `1h30m`). */
  readonly label: string;
  readonly durationMs: number;
}

const DAY_MS = 86_400_000;

/** The windows of SPEC 4.3, the default of --metrics.windows (`1d,7d,30d`). */
export const DEFAULT_METRIC_WINDOWS: readonly MetricWindow[] = [
  { label: '1d', durationMs: DAY_MS },
  { label: '7d', durationMs: 7 * DAY_MS },
  { label: '30d', durationMs: 30 * DAY_MS },
];

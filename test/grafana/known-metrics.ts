import { METRIC_SERIES_NAMES } from '../../src/metrics/metric-families.js';
import type { RuleFile } from './grafana-files.js';
import { allRules } from './grafana-files.js';

/** Series Prometheus adds itself for every scrape target. */
export const SCRAPE_METRICS = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'] as const;

export function recordingRuleNames(files: RuleFile[]): string[] {
  return allRules(files).flatMap((r) => (r.record === undefined ? [] : [r.record]));
}

/**
 * Every series name a dashboard or rule may read: the exporter's, taken from the
 * exporter's own list of families (src/metrics/metric-families.ts, which the metrics
 * tests hold to what /metrics renders), Prometheus's own, and the recording rules'.
 */
export function knownMetricNames(files: RuleFile[]): Set<string> {
  return new Set([...METRIC_SERIES_NAMES, ...SCRAPE_METRICS, ...recordingRuleNames(files)]);
}

/** Names that come from Prometheus itself or from a rule, not from the exporter's /metrics. */
export function namesNotFromExporter(files: RuleFile[]): Set<string> {
  return new Set<string>([...SCRAPE_METRICS, ...recordingRuleNames(files)]);
}

import { Registry, collectDefaultMetrics } from 'prom-client';
import type { RuleFile } from './grafana-files.js';
import { allRules } from './grafana-files.js';

/** The exporter's own metrics, SPEC section 5. */
export const SPEC_METRICS = [
  'chanfitness_channel_uptime_ratio',
  'chanfitness_channel_lifetime_seconds',
  'chanfitness_channel_uptime_seconds',
  'chanfitness_peer_flap_count',
  'chanfitness_peer_flaps_total',
  'chanfitness_peer_last_flap_timestamp_seconds',
  'chanfitness_peer_online',
  'chanfitness_peer_channels',
  'chanfitness_events_total',
  'chanfitness_events_rejected_total',
  'chanfitness_events_reordered_total',
  'chanfitness_flap_flushes_total',
  'chanfitness_last_flap_flush_timestamp_seconds',
  'chanfitness_nats_connected',
] as const;

/** Series Prometheus adds itself for every scrape target. */
export const SCRAPE_METRICS = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped'] as const;

/**
 * The names of prom-client's default process and Node.js metrics on this machine, as the
 * exporter exports them: asked from prom-client itself rather than listed by hand.
 */
export async function defaultMetricNames(): Promise<Set<string>> {
  const register = new Registry();
  collectDefaultMetrics({ register });
  const names = new Set<string>();
  for (const metric of await register.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
    }
  }
  return names;
}

export function recordingRuleNames(files: RuleFile[]): string[] {
  return allRules(files).flatMap((r) => (r.record === undefined ? [] : [r.record]));
}

/** Every metric name a dashboard or rule may read. */
export async function knownMetricNames(files: RuleFile[]): Promise<Set<string>> {
  return new Set([
    ...SPEC_METRICS,
    ...SCRAPE_METRICS,
    ...(await defaultMetricNames()),
    ...recordingRuleNames(files),
  ]);
}

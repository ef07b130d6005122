import type { DashboardExpression } from './dashboards.js';
import {
  type PrometheusHarness,
  PrometheusHarnessError,
  seriesCount,
} from './prometheus-harness.js';

export interface ExpressionResult {
  expression: DashboardExpression;
  /** Series returned; 0 when the query failed. */
  series: number;
  /** Prometheus's error for a query it refused (a parse error is errorType bad_data). */
  error?: string;
}

export interface ExpressionRunOptions {
  /** Range queries cover the last rangeSeconds, every stepSeconds. Defaults 60 and 1. */
  rangeSeconds?: number;
  stepSeconds?: number;
}

/**
 * Runs each expression through Prometheus's HTTP API the way its panel would: instant
 * targets as instant queries, the others as range queries ending now.
 */
export async function runExpressions(
  prometheus: PrometheusHarness,
  expressions: DashboardExpression[],
  { rangeSeconds = 60, stepSeconds = 1 }: ExpressionRunOptions = {},
): Promise<ExpressionResult[]> {
  const results: ExpressionResult[] = [];
  for (const expression of expressions) {
    const end = Date.now() / 1000;
    try {
      const data = expression.instant
        ? await prometheus.query(expression.expr, end)
        : await prometheus.queryRange(expression.expr, {
            start: end - rangeSeconds,
            end,
            step: stepSeconds,
          });
      results.push({ expression, series: seriesCount(data) });
    } catch (err) {
      if (!(err instanceof PrometheusHarnessError) || err.code !== 'PROMETHEUS_QUERY_FAILED') {
        throw err;
      }
      results.push({ expression, series: 0, error: err.message });
    }
  }
  return results;
}

/** One line per result, for assertion messages. */
export function describeResults(results: ExpressionResult[]): string {
  return results
    .map(
      (r) =>
        `${r.expression.dashboardUid} ${r.expression.where}: ${r.error ?? `${r.series} series`}\n    ${r.expression.expr}`,
    )
    .join('\n');
}

/**
 * Waits until a freshly started Prometheus scraping an exporter (every second) has what
 * the dashboards need: channels, several samples per counter for rates, and the
 * recording rules' first values.
 */
export async function waitForDashboardData(
  prometheus: PrometheusHarness,
  timeoutMs = 60_000,
): Promise<void> {
  await prometheus.waitForSeries('chanfitness_channel_uptime_ratio', { timeoutMs });
  await prometheus.waitForSeries('count_over_time(chanfitness_peer_flaps_total[1m]) >= 4', {
    timeoutMs,
  });
  await prometheus.waitForSeries('count_over_time(chanfitness_events_total[1m]) >= 4', {
    timeoutMs,
  });
  await prometheus.waitForSeries('chanfitness:peer_flaps:increase1h', { timeoutMs });
  await prometheus.waitForSeries('chanfitness:last_flap_flush_age_seconds', { timeoutMs });
}

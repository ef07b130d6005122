import assert from 'node:assert/strict';
import { dashboardExpressions, loadDashboards } from './dashboards.js';
import { describeResults, runExpressions, waitForDashboardData } from './expression-check.js';
import { type FixtureExporter, startFixtureExporter } from './fixture-exporter.js';
import { PrometheusHarness } from './prometheus-harness.js';
import { ensurePrometheus } from './promtool.js';

/** The pending alerts of the fixture's scene (their `for` keeps them from firing here). */
const EXPECTED_PENDING = [
  'ChanfitnessChannelLowUptime peer=020000000000000000000000000000000000000000000000000000000000000002',
  'ChanfitnessChannelLowWindowUptime peer=020000000000000000000000000000000000000000000000000000000000000002',
  'ChanfitnessPeerFlapping peer=020000000000000000000000000000000000000000000000000000000000000003',
  'ChanfitnessPeerOfflineTooLong peer=020000000000000000000000000000000000000000000000000000000000000002',
];

describe('Dashboards and rules against a real Prometheus scraping a SPEC-shaped exporter', function () {
  this.timeout(300_000);
  let exporter: FixtureExporter;
  let prometheus: PrometheusHarness;

  before(async () => {
    await ensurePrometheus();
    exporter = await startFixtureExporter();
    prometheus = await PrometheusHarness.start({
      jobs: [{ jobName: 'chanfitness', targets: [exporter.address] }],
    });
    await waitForDashboardData(prometheus);
    // The flapping peer's alert needs its flaps of the last hour above the threshold.
    await prometheus.waitForSeries('chanfitness:peer_flaps:increase1h > 6', { timeoutMs: 30_000 });
  });
  after(async () => {
    await prometheus.stop();
    await exporter.close();
  });

  it('scrapes the exporter fixture', async () => {
    const targets = await prometheus.targets();
    assert.deepEqual(
      targets.map((t) => [t.labels.job, t.health, t.lastError]),
      [['chanfitness', 'up', '']],
    );
  });

  it('returns at least one series for every panel query and variable query', async () => {
    const expressions = dashboardExpressions(loadDashboards(), {
      rateInterval: '10s',
      interval: '1s',
      range: '1m',
    });
    const results = await runExpressions(prometheus, expressions, { rangeSeconds: 30 });
    const empty = results.filter((r) => r.series === 0);
    assert.deepEqual(empty, [], describeResults(empty));
  });

  it('puts the fixture channel worst first and joins its peer flap count', async () => {
    const data = await prometheus.query(
      'bottomk(1, max by (node, channel_point, peer) (chanfitness_channel_uptime_ratio))',
    );
    assert.ok(data.resultType === 'vector');
    assert.equal(data.result[0]?.metric.peer, '02' + '2'.padStart(64, '0'));
    const joined = await prometheus.query(
      'max by (node, channel_point, peer) (0 * chanfitness_channel_lifetime_seconds{node="alice"})' +
        ' + on (node, peer) group_left () max by (node, peer) (chanfitness_peer_flap_count{node="alice"})',
    );
    assert.ok(joined.resultType === 'vector');
    const byPoint = new Map(joined.result.map((s) => [s.metric.channel_point, s.value[1]]));
    assert.equal(byPoint.size, 4);
    assert.equal(byPoint.get(`${'2'.padStart(64, 'c')}:0`), '41');
  });

  it('evaluates the alerts on the scene: the right ones pending, no error', async () => {
    const data = await prometheus.waitForSeries('ALERTS{alertstate="pending"}', {
      minSeries: EXPECTED_PENDING.length,
      timeoutMs: 20_000,
    });
    assert.ok(data.resultType === 'vector');
    const pending = data.result.map((s) => `${s.metric.alertname} peer=${s.metric.peer}`).sort();
    assert.deepEqual(pending, EXPECTED_PENDING);
    const rules = (await prometheus.rules()).flatMap((g) => g.rules);
    for (const r of rules) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError ?? ''}`);
  });
});

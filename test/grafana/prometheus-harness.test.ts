import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dashboardExpressions, loadDashboards } from './dashboards.js';
import { describeResults, runExpressions } from './expression-check.js';
import { allRules, loadRuleFiles } from './grafana-files.js';
import { PrometheusHarness, PrometheusHarnessError } from './prometheus-harness.js';
import { ensurePrometheus } from './promtool.js';

describe('PrometheusHarness (a real Prometheus scraping itself)', function () {
  this.timeout(300_000);
  let prometheus: PrometheusHarness;

  before(async () => {
    await ensurePrometheus();
    prometheus = await PrometheusHarness.start({ scrapeSelf: true });
  });
  after(async () => {
    await prometheus.stop();
  });

  it('scrapes its target: up is 1', async () => {
    const data = await prometheus.waitForSeries('up{job="prometheus"} == 1', { timeoutMs: 20_000 });
    assert.equal(data.resultType, 'vector');
    assert.equal(data.result[0]?.metric.instance, prometheus.address);
    const [target] = await prometheus.targets();
    assert.equal(target?.health, 'up');
  });

  it('answers range queries', async () => {
    await prometheus.waitForSeries('count_over_time(up[1m]) >= 2', { timeoutMs: 20_000 });
    const end = Date.now() / 1000;
    const data = await prometheus.queryRange('up', { start: end - 60, end, step: 1 });
    assert.equal(data.resultType, 'matrix');
    assert.ok((data.result[0]?.values.length ?? 0) >= 2);
  });

  it('loads our rule files and evaluates every rule without error', async () => {
    const expected = allRules(loadRuleFiles()).length;
    let groups = await prometheus.rules();
    const deadline = Date.now() + 20_000;
    while (
      Date.now() < deadline &&
      groups.some((g) => g.rules.some((r) => (r.lastEvaluation ?? '').startsWith('0001')))
    ) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      groups = await prometheus.rules();
    }
    const all = groups.flatMap((g) => g.rules);
    assert.equal(all.length, expected);
    for (const r of all) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError ?? ''}`);
  });

  it('reports a query Prometheus cannot parse as bad_data', async () => {
    await assert.rejects(
      prometheus.query('sum(up'),
      (e: unknown) =>
        e instanceof PrometheusHarnessError &&
        e.code === 'PROMETHEUS_QUERY_FAILED' &&
        e.errorType === 'bad_data',
    );
  });

  it('gives up waiting for series that never come', async () => {
    await assert.rejects(
      prometheus.waitForSeries('chanfitness_no_such_metric', { timeoutMs: 600 }),
      (e: unknown) => e instanceof PrometheusHarnessError && e.code === 'PROMETHEUS_TIMEOUT',
    );
  });

  it('parses every dashboard expression and variable query, variables substituted', async () => {
    const expressions = dashboardExpressions(loadDashboards(), {
      rateInterval: '10s',
      interval: '1s',
      range: '1m',
    });
    const results = await runExpressions(prometheus, expressions);
    const failed = results.filter((r) => r.error !== undefined);
    assert.deepEqual(failed, [], describeResults(failed));
  });

  it('parses every rule expression', async () => {
    for (const r of allRules(loadRuleFiles())) {
      const data = await prometheus.query(r.expr);
      // Rules must evaluate to an instant vector (Prometheus refuses scalar rules).
      assert.equal(data.resultType, 'vector', `${r.expr} gives a ${data.resultType}`);
    }
  });
});

describe('PrometheusHarness lifecycle', function () {
  this.timeout(120_000);
  before(async () => {
    await ensurePrometheus();
  });

  it('stops Prometheus and removes its files', async () => {
    const prometheus = await PrometheusHarness.start({ jobs: [] });
    assert.ok(prometheus.alive);
    assert.ok(existsSync(prometheus.dir));
    await prometheus.stop();
    assert.equal(prometheus.alive, false);
    assert.equal(existsSync(prometheus.dir), false);
    await assert.rejects(fetch(`${prometheus.url}/-/ready`));
  });

  it('reports a Prometheus that refuses its rules, with its log', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chanfitness-bad-rules-'));
    try {
      const file = join(dir, 'bad.rules.yml');
      await writeFile(
        file,
        'groups:\n  - name: bad\n    rules:\n      - record: x\n        expr: sum(up\n',
      );
      await assert.rejects(
        PrometheusHarness.start({ ruleFiles: [file] }),
        (e: unknown) =>
          e instanceof PrometheusHarnessError &&
          e.code === 'PROMETHEUS_START_FAILED' &&
          e.message.includes('unclosed left parenthesis'),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a missing prometheus binary', async () => {
    await assert.rejects(
      PrometheusHarness.start({ binary: '/nonexistent/prometheus' }),
      (e: unknown) =>
        e instanceof PrometheusHarnessError &&
        e.code === 'PROMETHEUS_START_FAILED' &&
        e.message.includes('ENOENT'),
    );
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { type RunningDemo, startDemo } from '../../scripts/demo/nats-demo.js';
import { CHANFITNESS_FAMILIES, METRIC_FAMILY_NAMES } from '../../src/metrics/metric-families.js';
import { ExporterProcess } from '../support/exporter-process.js';
import { dashboardExpressions, loadDashboards } from './dashboards.js';
import { describeResults, runExpressions, waitForDashboardData } from './expression-check.js';
import { allRules, loadRuleFiles } from './grafana-files.js';
import { namesNotFromExporter } from './known-metrics.js';
import { PrometheusHarness, PrometheusHarnessError, seriesCount } from './prometheus-harness.js';
import { ensurePrometheus } from './promtool.js';
import { promqlMetricNames } from './promql-metric-names.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const HOUR = 3_600_000;
/** The scrape job name the rules' scrape-health alerts expect. */
const JOB = 'chanfitness';
const NODES = ['alpha', 'beta'];
/** Simulated history before now: channels open within its first hour, so lifetimes reach hours. */
const HISTORY_MS = 3 * HOUR;

/**
 * Alerts whose expression must return nothing on this healthy exporter with three hours of
 * history, and why; every alert is in exactly one of these lists, so that a new alert
 * has to be placed.
 */
const QUIET_ALERTS: Record<string, string> = {
  ChanfitnessExporterDown: 'the exporter is scraped',
  ChanfitnessExporterAbsent: `the job is ${JOB}`,
  ChanfitnessNatsDisconnected: 'the exporter is connected',
  ChanfitnessNoEvents: 'events arrive, and the process is younger than 3 h',
  ChanfitnessNodeNoEvents: 'both nodes publish events',
  ChanfitnessNodeUnobserved: 'both nodes are observed (no down status, no restart)',
  ChanfitnessFlapFlushFailing: 'sqlite flushes succeed',
  ChanfitnessFlapFlushStale: 'flushes every 2 s',
  ChanfitnessChannelLowUptime: 'no channel is older than the 7-day minimum lifetime',
  ChanfitnessChannelLowWindowUptime: 'no channel is older than the 7-day minimum lifetime',
  ChanfitnessPeerOfflineTooLong: 'no peer can have been offline for a day in 3 h of history',
  ChanfitnessHistorySnapshotFailing: 'sqlite snapshots succeed',
  ChanfitnessHistorySnapshotStale: 'a snapshot every 2 s',
  ChanfitnessHistoryRejected: 'the store is new: no persisted history to ignore',
};
/** Alerts whose expression must return series: the test publishes malformed messages. */
const ACTIVE_ALERTS = ['ChanfitnessEventsRejected'];
/** Alerts whose expression depends on how fast the demo's flapping peers flap right now. */
const DATA_DEPENDENT_ALERTS = ['ChanfitnessPeerFlapping'];

interface Exposition {
  /** Family name -> type, from the `# TYPE` lines. */
  types: Map<string, string>;
  /** Names of the samples (a histogram's _bucket, _sum, _count). */
  samples: Set<string>;
}

/** The family types and sample names of a text exposition. */
function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) types.set(type[1] ?? '', type[2] ?? '');
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (sample !== null) samples.add(sample[1] ?? '');
  }
  return { types, samples };
}

async function waitForReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/readyz`);
    await res.arrayBuffer();
    if (res.ok) return;
    if (Date.now() > deadline) throw new Error(`exporter not ready after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('Dashboards and rules against a real Prometheus scraping the real exporter fed by the demo', function () {
  // The whole run takes about 20 s; installing Debian's prometheus package, when missing,
  // has its own bound.
  this.timeout(60_000);
  const prefix = `chanfitness-e2e-grafana-${randomUUID().slice(0, 8)}`;
  let dir: string | undefined;
  let exporter: ExporterProcess | undefined;
  let demo: RunningDemo | undefined;
  let prometheus: PrometheusHarness | undefined;

  const running = (): { exporter: ExporterProcess; prometheus: PrometheusHarness } => {
    assert.ok(exporter !== undefined && prometheus !== undefined, 'set-up failed');
    return { exporter, prometheus };
  };

  before(async function () {
    this.timeout(300_000);
    await ensurePrometheus();
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chanfitness-grafana-e2e-'));
    exporter = await ExporterProcess.start({
      cwd: dir,
      args: [
        `--nats.url=${NATS_URL}`,
        `--nats.subject-prefix=${prefix}`,
        `--store.url=sqlite://${join(dir, 'f.sqlite')}`,
        '--flap.flush-interval=2s',
        // History is on by default; snapshots this often give the history panels a value.
        '--history.snapshot-interval=2s',
        '--log.level=info',
      ],
      startTimeoutMs: 20_000,
    });
    // Core NATS: only what is published after the exporter subscribed reaches it.
    await waitForReady(exporter.url, 15_000);
    demo = await startDemo(
      {
        natsUrl: NATS_URL,
        subjectPrefix: prefix,
        nodes: NODES,
        peers: 24,
        channels: 30,
        // Three simulated hours in about two real seconds, then real time.
        speed: HISTORY_MS / 2000,
        historyMs: HISTORY_MS,
        seed: 5,
        tickMs: 20,
      },
      // Its progress lines would only clutter the test output.
      () => undefined,
    );
    prometheus = await PrometheusHarness.start({
      jobs: [{ jobName: JOB, targets: [new URL(exporter.url).host] }],
    });
    await waitForDashboardData(prometheus, 40_000);
    // Both nodes' events counted within Prometheus's samples, so per-node rates are real.
    await prometheus.waitForSeries('sum by (node) (increase(chanfitness_events_total[1m])) > 0', {
      minSeries: NODES.length,
      timeoutMs: 20_000,
    });
    await prometheus.waitForSeries('chanfitness_last_flap_flush_timestamp_seconds', {
      timeoutMs: 20_000,
    });
    await prometheus.waitForSeries('chanfitness_history_last_snapshot_timestamp_seconds', {
      timeoutMs: 20_000,
    });
    // lnd's own figures: the demo's channels open after the bootstrap listing, so they come
    // with the listing the exporter asks 5 s after the first of those opens.
    await prometheus.waitForSeries('count by (node) (chanfitness_lnd_channel_lifetime_seconds)', {
      minSeries: NODES.length,
      timeoutMs: 20_000,
    });
    // Malformed messages after Prometheus's first samples, so that it sees the counter rise.
    const nc = await connect({ servers: NATS_URL, name: 'chanfitness-grafana-e2e' });
    try {
      nc.publish(`${prefix}.alpha.peer_events`, 'not json');
      nc.publish(`${prefix}.beta.peer_events`, '{"pub_key":"02zz","type":"PEER_ONLINE"}');
      await nc.flush();
    } finally {
      await nc.close();
    }
    await prometheus.waitForSeries('increase(chanfitness_events_rejected_total[1m]) > 0', {
      minSeries: 2,
      timeoutMs: 20_000,
    });
  });

  after(async () => {
    // Each step runs even when an earlier one fails, so nothing is left running.
    const steps: (() => Promise<unknown>)[] = [
      async () => prometheus?.stop(),
      async () => demo?.stop(),
      async () => exporter?.stop('SIGTERM'),
      async () => exporter?.dispose(),
      async () => (dir === undefined ? undefined : rm(dir, { recursive: true, force: true })),
    ];
    const errors: unknown[] = [];
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'clean-up failed');
  });

  it('scrapes the exporter, which holds the demo scene: two nodes, history, flaps, offline peers', async () => {
    const { prometheus } = running();
    const targets = await prometheus.targets();
    assert.deepEqual(
      targets.map((t) => [t.labels.job, t.health, t.lastError]),
      [[JOB, 'up', '']],
    );
    const count = async (expr: string): Promise<number> => {
      const data = await prometheus.query(expr);
      assert.ok(data.resultType === 'vector', expr);
      return Number(data.result[0]?.value[1] ?? 0);
    };
    assert.equal(await count('count(count by (node) (chanfitness_channel_uptime_ratio))'), 2);
    assert.ok((await count('count(chanfitness_channel_lifetime_seconds)')) >= 20);
    // Payload timestamps in the past: channels opened hours ago, not at receipt.
    assert.ok((await count('max(chanfitness_channel_lifetime_seconds)')) > HOUR / 1000);
    assert.ok((await count('count(chanfitness_channel_uptime_ratio < 1)')) > 0);
    assert.ok((await count('count(chanfitness_peer_online == 0)')) > 0);
    assert.ok((await count('max(chanfitness_peer_flap_count)')) > 10);
  });

  it('returns at least one series for every panel query and variable query', async () => {
    const { prometheus } = running();
    const expressions = dashboardExpressions(loadDashboards(), {
      rateInterval: '10s',
      interval: '1s',
      range: '1m',
    });
    assert.ok(expressions.length > 40, `${expressions.length} expressions`);
    const results = await runExpressions(prometheus, expressions, { rangeSeconds: 30 });
    const empty = results.filter((r) => r.series === 0);
    assert.deepEqual(empty, [], describeResults(empty));
  });

  it('evaluates every rule expression: all parse, recording rules return series, alerts as the scene says', async () => {
    const { prometheus } = running();
    const rules = allRules(loadRuleFiles());
    const alertNames = rules.flatMap((r) => (r.alert === undefined ? [] : [r.alert]));
    assert.deepEqual(
      [...alertNames].sort(),
      [...Object.keys(QUIET_ALERTS), ...ACTIVE_ALERTS, ...DATA_DEPENDENT_ALERTS].sort(),
      'every alert placed in exactly one list',
    );
    const series = new Map<string, number>();
    const failed: string[] = [];
    for (const r of rules) {
      const name = r.alert ?? r.record ?? '';
      try {
        series.set(name, seriesCount(await prometheus.query(r.expr)));
      } catch (err) {
        if (!(err instanceof PrometheusHarnessError)) throw err;
        failed.push(`${name}: ${err.message}`);
      }
    }
    assert.deepEqual(failed, []);
    const report = [...series].map(([name, n]) => `${name}=${n}`).join(' ');
    for (const r of rules) {
      if (r.record !== undefined) {
        assert.ok((series.get(r.record) ?? 0) > 0, `${r.record} returns nothing: ${report}`);
      }
    }
    for (const [alert, why] of Object.entries(QUIET_ALERTS)) {
      assert.equal(series.get(alert), 0, `${alert} should be quiet (${why}): ${report}`);
    }
    for (const alert of ACTIVE_ALERTS) {
      assert.ok((series.get(alert) ?? 0) > 0, `${alert} returns nothing: ${report}`);
    }
    console.log(`      rule expressions, series returned: ${report}`);

    // Prometheus's own evaluations of the loaded rules, on the same data.
    const states = (await prometheus.rules()).flatMap((g) => g.rules);
    assert.equal(states.length, rules.length);
    for (const s of states) assert.equal(s.health, 'ok', `${s.name}: ${s.lastError ?? ''}`);
  });

  it('reads only metric names the running exporter exposes on /metrics', async () => {
    const { exporter } = running();
    const res = await fetch(`${exporter.url}/metrics`);
    assert.equal(res.status, 200);
    const exposition = parseExposition(await res.text());

    // The exporter's families are the ones src/metrics/metric-families.ts lists, which the
    // structural checks (known-metrics.ts) accept.
    for (const family of CHANFITNESS_FAMILIES) {
      assert.equal(exposition.types.get(family.name), family.type, family.name);
    }
    for (const name of exposition.types.keys()) {
      assert.ok(METRIC_FAMILY_NAMES.includes(name), `${name} not in METRIC_FAMILY_NAMES`);
    }

    const ruleFiles = loadRuleFiles();
    const notExported = namesNotFromExporter(ruleFiles);
    const exprs = [
      ...dashboardExpressions(loadDashboards()).map((e) => ({
        where: `${e.dashboardUid} ${e.where}`,
        expr: e.expr,
      })),
      ...allRules(ruleFiles).map((r) => ({ where: r.alert ?? r.record ?? '', expr: r.expr })),
    ];
    const missing: string[] = [];
    for (const { where, expr } of exprs) {
      for (const name of promqlMetricNames(expr)) {
        if (!notExported.has(name) && !exposition.samples.has(name)) {
          missing.push(`${where}: ${name}`);
        }
      }
    }
    assert.deepEqual(missing, []);
  });
});

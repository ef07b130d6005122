import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { stringify } from 'yaml';
import { CodedError } from '../../src/errors.js';
import { freePort } from '../support/free-port.js';
import { ALERTS_DIR, filesEndingWith } from './grafana-files.js';

export type PrometheusHarnessErrorCode =
  'PROMETHEUS_START_FAILED' | 'PROMETHEUS_QUERY_FAILED' | 'PROMETHEUS_TIMEOUT';

export class PrometheusHarnessError extends CodedError<PrometheusHarnessErrorCode> {
  constructor(
    code: PrometheusHarnessErrorCode,
    message: string,
    /** Prometheus's errorType for a query it refused (bad_data for a parse error, ...). */
    readonly errorType?: string,
  ) {
    super(code, message);
  }
}

export interface ScrapeJob {
  jobName: string;
  /** host:port of each target. */
  targets: string[];
  metricsPath?: string;
}

export interface PrometheusHarnessOptions {
  /** Jobs to scrape every scrapeInterval. */
  jobs?: ScrapeJob[];
  /** Also scrape this Prometheus's own /metrics as job `prometheus`. */
  scrapeSelf?: boolean;
  /** Rule files to load; default: every grafana/alerts/*.rules.yml. */
  ruleFiles?: string[];
  /** Default 1s, so that rates have samples within seconds. */
  scrapeInterval?: string;
  /** Default 1s. */
  evaluationInterval?: string;
  /** Default `prometheus` from PATH (Debian's package). */
  binary?: string;
  /** How long to wait for /-/ready. Default 30 s. */
  readyTimeoutMs?: number;
}

export type SampleValue = [number, string];
export interface InstantSeries {
  metric: Record<string, string>;
  value: SampleValue;
}
export interface RangeSeries {
  metric: Record<string, string>;
  values: SampleValue[];
}
export type QueryData =
  | { resultType: 'vector'; result: InstantSeries[] }
  | { resultType: 'matrix'; result: RangeSeries[] }
  | { resultType: 'scalar' | 'string'; result: SampleValue };

export interface RangeWindow {
  /** Unix seconds. */
  start: number;
  end: number;
  /** Seconds. */
  step: number;
}

export interface RuleState {
  name: string;
  type: 'alerting' | 'recording';
  health: string;
  lastError?: string;
  lastEvaluation?: string;
}
export interface RuleGroupState {
  name: string;
  file: string;
  rules: RuleState[];
}

export interface TargetState {
  labels: Record<string, string>;
  health: string;
  lastError: string;
  scrapeUrl: string;
}

/** Series in a vector or matrix result; a scalar or string has none. */
export function seriesCount(data: QueryData): number {
  return data.resultType === 'vector' || data.resultType === 'matrix' ? data.result.length : 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Harnesses still running: killed if the test process exits without stopping them. */
const running = new Set<PrometheusHarness>();
process.once('exit', () => {
  for (const h of running) h.killNow();
});

const LOG_LIMIT = 64 * 1024;
const START_ATTEMPTS = 3;

/**
 * A real Prometheus (the `prometheus` binary) on a free loopback port with a temporary
 * config and storage, scraping the given targets and evaluating our rule files.
 */
export class PrometheusHarness {
  private log = '';
  private readonly exited: Promise<void>;
  private ended = false;
  private stopped = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly port: number,
  ) {
    // A binary that cannot be spawned emits 'error' and never 'exit'.
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        this.ended = true;
        resolve();
      });
      child.once('error', (err) => {
        this.log += `\nspawn failed: ${err.message}`;
        this.ended = true;
        resolve();
      });
    });
    const keep = (chunk: Buffer): void => {
      this.log = (this.log + chunk.toString('utf8')).slice(-LOG_LIMIT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /** http://127.0.0.1:<port> */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** host:port, as a scrape target. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The last 64 KiB of Prometheus's own log, for failure messages. */
  get output(): string {
    return this.log;
  }

  static async start(options: PrometheusHarnessOptions = {}): Promise<PrometheusHarness> {
    let lastError: unknown;
    // The port is picked before Prometheus binds it; another process may take it between.
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      const harness = await PrometheusHarness.launch(options);
      try {
        await harness.waitReady(options.readyTimeoutMs ?? 30_000);
        return harness;
      } catch (err) {
        lastError = err;
        await harness.stop();
        if (!harness.output.includes('address already in use')) break;
      }
    }
    throw lastError;
  }

  private static async launch(options: PrometheusHarnessOptions): Promise<PrometheusHarness> {
    const dir = await mkdtemp(join(tmpdir(), 'chanfitness-prometheus-'));
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const scrapeConfigs = (options.jobs ?? []).map((job) => ({
      job_name: job.jobName,
      metrics_path: job.metricsPath ?? '/metrics',
      static_configs: [{ targets: job.targets }],
    }));
    if (options.scrapeSelf === true) {
      scrapeConfigs.push({
        job_name: 'prometheus',
        metrics_path: '/metrics',
        static_configs: [{ targets: [address] }],
      });
    }
    const config = {
      global: {
        scrape_interval: options.scrapeInterval ?? '1s',
        scrape_timeout: options.scrapeInterval ?? '1s',
        evaluation_interval: options.evaluationInterval ?? '1s',
      },
      rule_files: options.ruleFiles ?? filesEndingWith(ALERTS_DIR, '.rules.yml'),
      scrape_configs: scrapeConfigs,
    };
    const configFile = join(dir, 'prometheus.yml');
    await writeFile(configFile, stringify(config));
    const child = spawn(
      options.binary ?? 'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=${address}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const harness = new PrometheusHarness(child, dir, port);
    running.add(harness);
    return harness;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.ended) {
        throw new PrometheusHarnessError(
          'PROMETHEUS_START_FAILED',
          `prometheus exited before it was ready:\n${this.log}`,
        );
      }
      try {
        const res = await fetch(`${this.url}/-/ready`);
        if (res.ok) return;
      } catch {
        // Not listening yet.
      }
      await delay(100);
    }
    throw new PrometheusHarnessError(
      'PROMETHEUS_START_FAILED',
      `prometheus was not ready within ${timeoutMs} ms:\n${this.log}`,
    );
  }

  private async api(path: string, params: Record<string, string>): Promise<unknown> {
    const res = await fetch(`${this.url}${path}?${new URLSearchParams(params).toString()}`);
    const body: unknown = await res.json();
    if (!isRecord(body)) {
      throw new PrometheusHarnessError('PROMETHEUS_QUERY_FAILED', `${path}: HTTP ${res.status}`);
    }
    if (body.status !== 'success') {
      const errorType = typeof body.errorType === 'string' ? body.errorType : undefined;
      throw new PrometheusHarnessError(
        'PROMETHEUS_QUERY_FAILED',
        `${path} ${JSON.stringify(params)}: ${errorType ?? 'error'}: ${String(body.error)}`,
        errorType,
      );
    }
    return body.data;
  }

  private static queryData(data: unknown): QueryData {
    if (!isRecord(data) || typeof data.resultType !== 'string') {
      throw new PrometheusHarnessError('PROMETHEUS_QUERY_FAILED', 'no resultType in answer');
    }
    const { resultType, result } = data;
    if ((resultType === 'vector' || resultType === 'matrix') && !Array.isArray(result)) {
      throw new PrometheusHarnessError('PROMETHEUS_QUERY_FAILED', `${resultType} without result`);
    }
    return data as unknown as QueryData;
  }

  /** An instant query, at `time` (unix seconds) or now. */
  async query(expr: string, time?: number): Promise<QueryData> {
    const params: Record<string, string> = { query: expr };
    if (time !== undefined) params.time = String(time);
    return PrometheusHarness.queryData(await this.api('/api/v1/query', params));
  }

  /** A range query over [start, end] every step seconds. */
  async queryRange(expr: string, window: RangeWindow): Promise<QueryData> {
    return PrometheusHarness.queryData(
      await this.api('/api/v1/query_range', {
        query: expr,
        start: String(window.start),
        end: String(window.end),
        step: String(window.step),
      }),
    );
  }

  /** Polls an instant query until it returns at least `minSeries` series. */
  async waitForSeries(
    expr: string,
    { timeoutMs = 30_000, minSeries = 1, intervalMs = 250 } = {},
  ): Promise<QueryData> {
    const deadline = Date.now() + timeoutMs;
    let last: QueryData | undefined;
    while (Date.now() < deadline) {
      last = await this.query(expr);
      if (seriesCount(last) >= minSeries) return last;
      await delay(intervalMs);
    }
    throw new PrometheusHarnessError(
      'PROMETHEUS_TIMEOUT',
      `${expr}: ${last === undefined ? 0 : seriesCount(last)} series after ${timeoutMs} ms, wanted ${minSeries}`,
    );
  }

  /** The loaded rule groups and each rule's health. */
  async rules(): Promise<RuleGroupState[]> {
    const data = await this.api('/api/v1/rules', {});
    if (!isRecord(data) || !Array.isArray(data.groups)) {
      throw new PrometheusHarnessError('PROMETHEUS_QUERY_FAILED', 'no groups in /api/v1/rules');
    }
    return data.groups as RuleGroupState[];
  }

  /** The active scrape targets and their health. */
  async targets(): Promise<TargetState[]> {
    const data = await this.api('/api/v1/targets', { state: 'active' });
    if (!isRecord(data) || !Array.isArray(data.activeTargets)) {
      throw new PrometheusHarnessError(
        'PROMETHEUS_QUERY_FAILED',
        'no activeTargets in /api/v1/targets',
      );
    }
    return data.activeTargets as TargetState[];
  }

  /** Stops Prometheus (SIGTERM, SIGKILL after 10 s) and removes its config and storage. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.alive && this.child.pid !== undefined) {
      this.child.kill('SIGTERM');
      const killed = await Promise.race([
        this.exited.then(() => false),
        delay(10_000).then(() => true),
      ]);
      if (killed) {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    }
    running.delete(this);
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Synchronous last resort for process exit: no waiting possible there. */
  killNow(): void {
    if (this.alive && this.child.pid !== undefined) this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Whether the Prometheus process is still running. */
  get alive(): boolean {
    return !this.ended;
  }
}

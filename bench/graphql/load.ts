/**
 * What a fast-path GraphQL benchmark (bench/fast-path-cost-limit.bench.ts)
 * needs: a server of bench/graphql/server.ts in a process of its own pinned
 * to CPU 0, optionally with modules of src/ swapped for substitutes (a fast
 * path off or replaced, see bench/fast-path/substitute-register.js);
 * autocannon in a process pinned to CPU 1; the server's main-thread CPU per
 * request. bench/graphql.bench.ts and the fast-path GraphQL benchmarks run
 * their servers and their load through it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { QuietLog } from '../quiet.js';
import type { BenchRow } from '../result.js';
import type { PageParts } from './parts.js';
import type { ServerKind } from './server.js';

export const CONNECTIONS = 50;
export const WARMUP_SECONDS = 2;
export const SERVER_CPU = '0';
export const LOAD_CPU = '1';

const require = createRequire(import.meta.url);
const AUTOCANNON = join(require.resolve('autocannon/package.json'), '..', 'autocannon.js');
export const pinning = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** Runs argv pinned to one CPU when taskset works here. */
export function pinned(cpu: string, argv: string[]): [string, string[]] {
  return pinning ? ['taskset', ['-c', cpu, ...argv]] : [argv[0] ?? '', argv.slice(1)];
}

export interface Server {
  readonly name: string;
  readonly url: string;
  /** CPU time of the server's main thread so far, in microseconds. */
  cpuMicros(): Promise<number>;
  /** Where a page's CPU goes, measured in the server (`ours` only). */
  parts(answer: string): Promise<PageParts | undefined>;
  /** Runs fn with the server's CPU profiler on, writing the profile to path. */
  profiled<T>(path: string, fn: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/**
 * A server of bench/graphql/server.ts, with `substitutes` (original ->
 * substitute, paths from the repository root) swapped in.
 */
export function startServer(
  name: string,
  kind: ServerKind,
  substitutes: Readonly<Record<string, string>> = {},
): Promise<Server> {
  const imports = ['--import', 'tsx'];
  if (Object.keys(substitutes).length > 0) {
    imports.push(
      '--import',
      join(import.meta.dirname, '..', 'fast-path', 'substitute-register.js'),
    );
  }
  const [command, args] = pinned(SERVER_CPU, [
    process.execPath,
    ...imports,
    join(import.meta.dirname, 'server.ts'),
    kind,
  ]);
  const child: ChildProcess = spawn(command, args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_SUBSTITUTES: JSON.stringify(substitutes) },
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      reject(new Error(`${name} server exited with ${code} before listening`));
    });
    child.once('message', (message: { port: number }) => {
      child.removeAllListeners('exit');
      const reply = (): Promise<void> =>
        new Promise((done) => {
          child.once('message', () => {
            done();
          });
        });
      resolve({
        name,
        url: `http://127.0.0.1:${message.port}/graphql`,
        cpuMicros: () =>
          new Promise((done) => {
            child.once('message', (m: { cpuMicros: number }) => {
              done(m.cpuMicros);
            });
            child.send('cpu');
          }),
        parts: (answer) =>
          new Promise((done) => {
            child.once('message', (m: { parts?: PageParts }) => {
              done(m.parts);
            });
            child.send({ parts: answer });
          }),
        profiled: async (path, fn) => {
          const started = reply();
          child.send({ profile: 'start' });
          await started;
          try {
            return await fn();
          } finally {
            const written = reply();
            child.send({ profile: 'stop', path });
            await written;
          }
        },
        stop: () =>
          new Promise((done) => {
            child.once('exit', () => {
              done();
            });
            child.send('stop');
          }),
      });
    });
  });
}

export interface Load {
  readonly rps: number;
  /** Server main-thread CPU (user + system) per request answered, in microseconds. */
  cpuPerRequest: number;
  readonly p50: number;
  readonly p99: number;
  readonly requests: number;
  /** Connection errors, timeouts and non-2xx answers. */
  readonly failures: number;
}

interface AutocannonJson {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

export function autocannon(url: string, body: string, seconds: number): Promise<Load> {
  const [command, args] = pinned(LOAD_CPU, [
    process.execPath,
    AUTOCANNON,
    '-c',
    String(CONNECTIONS),
    '-d',
    String(seconds),
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-b',
    body,
    '-j',
    url,
  ]);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (out += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`autocannon exited with ${code}`));
        return;
      }
      const r = JSON.parse(out.trim().split('\n').at(-1) ?? '') as AutocannonJson;
      resolve({
        rps: r.requests.average,
        p50: r.latency.p50,
        p99: r.latency.p99,
        requests: r.requests.total,
        cpuPerRequest: Number.NaN,
        failures: r.errors + r.timeouts + r.non2xx,
      });
    });
  });
}

/** A measured run: autocannon, with the server's CPU over it. */
export async function measureLoad(server: Server, body: string, seconds: number): Promise<Load> {
  const cpu0 = await server.cpuMicros();
  const load = await autocannon(server.url, body, seconds);
  load.cpuPerRequest = ((await server.cpuMicros()) - cpu0) / load.requests;
  return load;
}

/** The `data` a server answers, to check that servers do the same work; errors throw. */
export async function answerData(url: string, body: string): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
  });
  const json = (await res.json()) as { data?: unknown; errors?: unknown };
  if (json.errors !== undefined) throw new Error(`${url}: ${JSON.stringify(json.errors)}`);
  return JSON.stringify(json.data);
}

/** The whole answer a server gives (status and body), to check that servers answer alike. */
export async function answer(url: string, body: string): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
  });
  return `${res.status} ${await res.text()}`;
}

/**
 * Every server loaded with every body: a warm-up run each, then `rounds`
 * measured runs, alternating between the servers, each after waiting for
 * the machine to be quiet; of each server and body, the best req/s and the
 * lowest CPU per request over its runs (the least disturbed), with the
 * failures of all its runs.
 */
export async function loadAll(
  servers: readonly Server[],
  bodies: Readonly<Record<string, string>>,
  rounds: number,
  seconds: number,
  quiet: QuietLog,
): Promise<Map<string, Load>> {
  const loads = new Map<string, Load>();
  for (const [query, body] of Object.entries(bodies)) {
    for (const server of servers) await autocannon(server.url, body, WARMUP_SECONDS);
    for (let round = 0; round < rounds; round++) {
      for (const server of servers) {
        await quiet.wait();
        const load = await measureLoad(server, body, seconds);
        const key = `${server.name} ${query}`;
        process.stderr.write(
          `${key} (round ${round + 1}): ${Math.round(load.rps)} req/s, p50 ${load.p50} ms, p99 ${load.p99} ms, server CPU ${Math.round(load.cpuPerRequest)} µs/request, ${load.failures} failures\n`,
        );
        const best = loads.get(key);
        if (best === undefined) {
          loads.set(key, load);
          continue;
        }
        const kept = load.rps > best.rps ? load : best;
        loads.set(key, {
          ...kept,
          cpuPerRequest: Math.min(load.cpuPerRequest, best.cpuPerRequest),
          failures: load.failures + best.failures,
        });
      }
    }
  }
  return loads;
}

/** A fast path's gain as a percentage: 1.084 -> "8.4%". */
export function percent(ratio: number): string {
  return `${((ratio - 1) * 100).toFixed(1)}%`;
}

/** A ratio at or above which a fast path keeps its place. */
export const KEEP_RATIO = 1.1;

export interface FastPathVerdict {
  readonly rows: BenchRow[];
  /** Per query: its gain in CPU per request and in req/s, in words. */
  readonly gains: string[];
  /**
   * The gain in CPU per request over all the queries: the geometric mean of
   * their ratios, so that no one query (nor one disturbed run) decides.
   */
  readonly gain: number;
}

/**
 * The rows of a fast path weighed on the whole server: for each query, req/s
 * and server CPU per request of the server with it (`withKey`) against the
 * server without (`withoutKey`), the CPU row holding the verdict (keep at
 * KEEP_RATIO or more, the figure other load disturbs least).
 */
export function fastPathRows(
  loads: ReadonlyMap<string, Load>,
  queries: Readonly<Record<string, string>>,
  names: { readonly with: string; readonly without: string; readonly baselineName: string },
  metric: (label: string, what: string) => string,
): FastPathVerdict {
  const get = (key: string): Load => {
    const load = loads.get(key);
    if (load === undefined) throw new Error(`no figures for ${key}`);
    return load;
  };
  const rows: BenchRow[] = [];
  const gains: string[] = [];
  let logSum = 0;
  for (const [query, label] of Object.entries(queries)) {
    const withIt = get(`${names.with} ${query}`);
    const without = get(`${names.without} ${query}`);
    const rpsRatio = withIt.rps / without.rps;
    const cpuRatio = without.cpuPerRequest / withIt.cpuPerRequest;
    logSum += Math.log(cpuRatio);
    gains.push(`${label} ${percent(cpuRatio)} CPU per request, ${percent(rpsRatio)} req/s`);
    rows.push(
      {
        metric: metric(label, `req/s at ${CONNECTIONS} connections`),
        value: withIt.rps,
        unit: 'req/s',
        baseline: without.rps,
        baselineName: names.baselineName,
        ratio: rpsRatio,
      },
      {
        metric: metric(label, 'server CPU per request (main thread)'),
        value: withIt.cpuPerRequest,
        unit: 'µs',
        baseline: without.cpuPerRequest,
        baselineName: names.baselineName,
        ratio: cpuRatio,
        target: `>= ${KEEP_RATIO} (keep), else delete`,
        pass: cpuRatio >= KEEP_RATIO,
      },
    );
  }
  return { rows, gains, gain: Math.exp(logSum / Object.keys(queries).length) };
}

/** Requests that failed, by server and query, for the notes. */
export function failuresNote(loads: ReadonlyMap<string, Load>): string {
  const failures = [...loads.entries()]
    .filter(([, l]) => l.failures > 0)
    .map(([k, l]) => `${k}: ${l.failures}`);
  return failures.length > 0 ? `Failed requests: ${failures.join(', ')}.` : 'No failed requests.';
}

/**
 * The client side of a scrape comparison (bench/scrape.bench.ts and
 * bench/fast-path-exposition.bench.ts): a server of bench/scrape-server.ts per variant and size (forked, its
 * memory its own), GET /metrics from this process, time to the last byte,
 * the server's peak RSS above its RSS after a GC (/proc: clear_refs 5, then
 * VmHWM), and its event loop during a scrape.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import type { ScrapeVariant, ServerReply, ServerRequest } from './scrape-server.js';
import { forkWorker } from './worker-process.js';
import type { QuietLog } from './quiet.js';

export interface ScrapeServer {
  readonly pid: number;
  readonly url: string;
  readonly ready: Extract<ServerReply, { kind: 'ready' }>;
  ask<K extends ServerReply['kind']>(
    request: ServerRequest,
    reply: K,
  ): Promise<Extract<ServerReply, { kind: K }>>;
  stop(): Promise<void>;
}

export async function startScrapeServer(
  variant: ScrapeVariant,
  channels: number,
  days: number,
  /** Gaps in every node's observed time (bench/scrape-fixture.ts). */
  gaps = 0,
): Promise<ScrapeServer> {
  const worker = forkWorker<ServerRequest, ServerReply>(
    `${variant} server`,
    join(import.meta.dirname, 'scrape-server.ts'),
    {
      args: [variant, String(channels), String(days), String(gaps)],
      execArgv: ['--import', 'tsx', '--expose-gc'],
    },
  );
  const ready = await worker.next('ready');
  return {
    pid: worker.pid,
    url: ready.url,
    ready,
    ask: (request, kind) => {
      const reply = worker.next(kind);
      worker.send(request);
      return reply;
    },
    stop: () => worker.stop(),
  };
}

/** VmRSS and VmHWM of a process, bytes. */
export function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

export interface Scrape {
  readonly ms: number;
  readonly bytes: number;
  readonly text: string | undefined;
}

export function scrape(url: string, gzip: boolean, keepText = false): Promise<Scrape> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = get(
      `${url}/metrics`,
      { agent: false, headers: gzip ? { 'Accept-Encoding': 'gzip' } : {} },
      (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`GET /metrics: ${res.statusCode}`));
          res.resume();
          return;
        }
        if ((res.headers['content-encoding'] === 'gzip') !== gzip) {
          reject(new Error(`GET /metrics: content-encoding ${res.headers['content-encoding']}`));
        }
        let bytes = 0;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (keepText) chunks.push(chunk);
        });
        res.on('end', () => {
          resolve({
            ms: performance.now() - started,
            bytes,
            text: keepText ? Buffer.concat(chunks).toString('utf8') : undefined,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
  });
}

export interface Measured {
  /** Median time to the last byte. */
  readonly ms: number;
  /** Median peak RSS above the RSS after a GC. */
  readonly peakBytes: number;
  /** Median RSS after a GC, before the scrape: what the process keeps between scrapes. */
  readonly idleBytes: number;
  readonly bytes: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** Scrapes `runs` times, each after a GC with the peak reset and on a quiet machine; medians. */
export async function measureScrapes(
  server: ScrapeServer,
  gzip: boolean,
  runs: number,
  quiet: QuietLog,
): Promise<Measured> {
  const times: number[] = [];
  const peaks: number[] = [];
  const idles: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    await server.ask({ kind: 'gc' }, 'gc-done');
    await quiet.wait();
    writeFileSync(`/proc/${server.pid}/clear_refs`, '5');
    const before = memory(server.pid).rss;
    const result = await scrape(server.url, gzip);
    const after = memory(server.pid);
    times.push(result.ms);
    peaks.push(Math.max(0, after.peak - before));
    idles.push(before);
    bytes = result.bytes;
  }
  return { ms: median(times), peakBytes: median(peaks), idleBytes: median(idles), bytes };
}

/** The server's event loop during one scrape: largest delay and setImmediate gap, ms. */
export async function loopDuring(
  server: ScrapeServer,
  gzip: boolean,
  quiet: QuietLog,
): Promise<{ delay: number; gap: number }> {
  await server.ask({ kind: 'gc' }, 'gc-done');
  await quiet.wait();
  await server.ask({ kind: 'loop-start' }, 'loop-started');
  await scrape(server.url, gzip);
  const stats = await server.ask({ kind: 'loop-stop' }, 'loop');
  return { delay: stats.maxDelayMs, gap: stats.maxGapMs };
}

/** The series (name and labels) of the chanfitness_channel_* and _peer_* families, sorted. */
export function seriesOf(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => /^chanfitness_(channel|peer)_/.test(l))
    .map((l) => l.slice(0, l.lastIndexOf(' ')))
    .sort();
}

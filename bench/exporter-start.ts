/**
 * The real exporter process for benchmarks: built when dist/ is older than
 * src/, started and timed to ready.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { eventually, poll } from '../test/support/eventually.js';

const ROOT = resolve(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist', 'main.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile())
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** Builds dist/ when any source file is newer than dist/main.js. */
export function ensureBuilt(): string {
  let built: number;
  try {
    built = statSync(MAIN).mtimeMs;
  } catch {
    built = 0;
  }
  if (built >= newestMtime(join(ROOT, 'src'))) return 'dist/ was up to date';
  const started = Date.now();
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return `built dist/ first (${((Date.now() - started) / 1000).toFixed(0)} s)`;
}

export interface Timings {
  /** From spawn to the HTTP server listening (log line). */
  readonly listening: number;
  /** From spawn to /readyz 200. */
  readonly ready: number;
  /** From spawn to the node's channels all applied (GraphQL channelCount), when asked. */
  readonly bootstrapped: number | undefined;
}

/**
 * Runs `node dist/main.js` with these flags (and a free port) in a fresh
 * folder, timing spawn to listening and to /readyz 200, and, when asked, to
 * the node's channels all applied; then stops it.
 */
export async function runExporter(
  args: string[],
  expect?: { readonly node: string; readonly channels: number },
): Promise<Timings> {
  const cwd = mkdtempSync(join(tmpdir(), 'chanfitness-restart-'));
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [MAIN, '--web.listen-address=127.0.0.1:0', '--log.format=json', '--log.level=info', ...args],
    {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  let listening: { url: string; at: number } | undefined;
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stdout.setEncoding('utf8');
  let partial = '';
  child.stdout.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (listening === undefined && line.includes('HTTP server listening')) {
        const url = (JSON.parse(line) as { url: string }).url;
        listening = { url, at: performance.now() - started };
      }
      if (line.includes('"level":50') || line.includes('"level":60')) output += `${line}\n`;
    }
  });
  try {
    const url = await poll(
      () => listening?.url,
      () => `the HTTP server:\n${output}`,
      {
        limitMs: 15_000,
        everyMs: 20,
      },
    );
    // Every 5 ms: the time to ready is what is measured.
    await eventually(
      async () => (await fetch(`${url}/readyz`)).status === 200,
      () => `/readyz 200:\n${output}`,
      { limitMs: 15_000, everyMs: 5, retryErrors: true },
    );
    const ready = performance.now() - started;
    let bootstrapped: number | undefined;
    if (expect !== undefined) {
      await eventually(
        async () => {
          const res = await fetch(`${url}/graphql`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ query: '{ nodes { id channelCount } }' }),
          });
          const body = (await res.json()) as {
            data?: { nodes: { id: string; channelCount: number }[] };
          };
          const count = body.data?.nodes.find((n) => n.id === expect.node)?.channelCount ?? 0;
          if (count >= expect.channels) bootstrapped = performance.now() - started;
          return count >= expect.channels;
        },
        'the bootstrap',
        { limitMs: 60_000, everyMs: 20, retryErrors: true },
      );
    }
    return { listening: listening?.at ?? NaN, ready, bootstrapped };
  } finally {
    child.kill('SIGTERM');
    await new Promise<void>((r) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        r();
      });
    });
    rmSync(cwd, { recursive: true, force: true });
  }
}

/**
 * Runs a measuring script in a fresh `node --expose-gc` process, bundled to
 * plain JavaScript by esbuild (tsx's own compiler): the service runs compiled
 * JavaScript, and the TypeScript loader would add its own thread and ~30 MB
 * to the RSS. Packages stay external (resolved from node_modules, where the
 * bundle is written). Resolves with the JSON of the script's last line.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..', '..');

export async function measureInFreshProcess<T>(entry: string, args: string[] = []): Promise<T> {
  const cache = join(ROOT, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'chanfitness-measure-'));
  try {
    const script = join(dir, 'measure.mjs');
    buildSync({
      entryPoints: [entry],
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: script,
      logLevel: 'error',
    });
    const out = await run(script, args);
    return JSON.parse(out.trim().split('\n').at(-1) ?? '') as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(script: string, args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolvePromise(out);
      else reject(new Error(`${script} exited with ${code}`));
    });
  });
}

/**
 * `npm run bench`: runs every bench/*.bench.ts in its own process (so that one
 * benchmark's heap and timers do not disturb the next), collects their results
 * and writes bench/RESULTS.md with the machine, the versions and the date.
 * Arguments filter benchmarks by name: `npm run bench -- store graphql`.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import type { BenchResult, BenchRow } from './result.js';

const dir = import.meta.dirname;
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

function runOne(
  file: string,
): Promise<{ result: BenchResult | undefined; seconds: number; log: string }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--expose-gc', join(dir, file)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on('exit', () => {
      const last = out.trim().split('\n').at(-1) ?? '';
      let result: BenchResult | undefined;
      try {
        result = JSON.parse(last) as BenchResult;
      } catch {
        result = undefined;
      }
      resolve({ result, seconds: (Date.now() - started) / 1000, log: out });
    });
  });
}

function format(n: number | undefined): string {
  if (n === undefined) return '';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(3)).toString();
}

function row(r: BenchRow): string {
  const verdict = r.pass === undefined ? '' : r.pass ? 'met' : '**not met**';
  return `| ${r.metric} | ${format(r.value)} ${r.unit} | ${r.baselineName ?? ''} ${r.baseline === undefined ? '' : `${format(r.baseline)} ${r.unit}`} | ${format(r.ratio)} | ${r.target ?? ''} | ${verdict} |`;
}

const results: { file: string; result: BenchResult | undefined; seconds: number }[] = [];
const started = Date.now();
for (const file of files) {
  process.stderr.write(`\n== ${file}\n`);
  const { result, seconds } = await runOne(file);
  results.push({ file, result, seconds });
}

const pkg = JSON.parse(readFileSync(join(dir, '..', 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const installed = (name: string): string => {
  try {
    return (
      JSON.parse(readFileSync(join(dir, '..', 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  } catch {
    return pkg.dependencies[name] ?? '?';
  }
};
const lines: string[] = [
  '# Benchmark results',
  '',
  `Written by \`npm run bench\` on ${new Date().toISOString()} in ${Math.round((Date.now() - started) / 1000)} s.`,
  '',
  `Machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; ` +
    ['prom-client', 'graphql-yoga', 'graphql', 'nats', 'keyv']
      .map((n) => `${n} ${installed(n)}`)
      .join(', ') +
    '.',
  '',
  'Every target is a ratio against a baseline measured in the same run (or an absolute bound where the issue sets one).',
  '',
];
for (const { file, result, seconds } of results) {
  lines.push(`## ${result?.name ?? basename(file)}`, '');
  if (result === undefined) {
    lines.push(`\`${file}\` produced no result (see the run's output).`, '');
    continue;
  }
  lines.push('| metric | ours | baseline | ratio | target | |', '|---|---|---|---|---|---|');
  for (const r of result.rows) lines.push(row(r));
  lines.push('', `(${Math.round(seconds)} s)`, '');
  for (const note of result.notes ?? []) lines.push(`- ${note}`);
  if ((result.notes ?? []).length > 0) lines.push('');
}
if (filters.length === 0) {
  writeFileSync(join(dir, 'RESULTS.md'), lines.join('\n'));
  process.stderr.write(`\nwrote bench/RESULTS.md\n`);
} else {
  process.stdout.write(`\n${lines.join('\n')}\n(filtered run: bench/RESULTS.md not written)\n`);
}

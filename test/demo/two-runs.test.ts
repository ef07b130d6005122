import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ExporterProcess } from '../support/exporter-process.js';
import { query, randomToken, scrape, startExporter } from '../e2e/support.js';

/** Runs the demo script to its end: a short run replaying an hour of history. */
async function runDemo(prefix: string): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/demo.ts',
      `--nats.subject-prefix=${prefix}`,
      '--peers=6',
      '--channels=6',
      '--history=1h',
      '--speed=3600',
      '--duration=3s',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, output);
  return output;
}

/** Every peer's flap count of a node, from /metrics. */
async function flapCounts(exporter: ExporterProcess, node: string): Promise<Map<string, number>> {
  const family = (await scrape(exporter)).get('chanfitness_peer_flap_count');
  const counts = new Map<string, number>();
  for (const sample of family?.samples ?? []) {
    if (sample.labels.node === node) counts.set(sample.labels.peer ?? '', sample.value);
  }
  return counts;
}

describe('demo: two runs against one exporter', function () {
  this.timeout(60_000);

  const prefix = randomToken('demo2');
  let exporter: ExporterProcess;

  before(async () => {
    exporter = await startExporter({ prefix, args: ['--no-history'] });
  });

  after(async () => {
    await exporter.dispose();
  });

  it("publishes the second under new node names: the first run's counts stay as they were", async () => {
    await runDemo(prefix);
    const afterFirst = await query<{ nodes: { id: string }[] }>(exporter, '{ nodes { id } }');
    assert.equal(afterFirst.nodes.length, 1);
    const first = afterFirst.nodes[0]?.id ?? '';
    assert.match(first, /^demo-[0-9a-z]+$/);
    // Settled: the demo has exited, the last of its messages may still be applied.
    let counts = await flapCounts(exporter, first);
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const again = await flapCounts(exporter, first);
      if (JSON.stringify([...again]) === JSON.stringify([...counts])) break;
      counts = again;
    }
    assert.ok(counts.size > 0, 'the first run monitored peers');

    await runDemo(prefix);
    const afterSecond = await query<{ nodes: { id: string }[] }>(exporter, '{ nodes { id } }');
    assert.equal(afterSecond.nodes.length, 2);
    assert.notEqual(afterSecond.nodes[1]?.id, first);
    assert.deepEqual(await flapCounts(exporter, first), counts);
  });
});

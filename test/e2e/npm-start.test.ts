import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { eventually } from '../support/eventually.js';
import { randomToken } from './support.js';

/**
 * The README's run command, `npm start`, stopped as Docker, supervisord or
 * `kill` stop it: the exporter itself gets the signal (no shell between npm
 * and node), flushes, stops, and npm exits 0, leaving no process behind.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');

/** Whether an exporter whose command line carries this marker runs. */
function running(marker: string): boolean {
  const out = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return out.split('\n').some((line) => line.includes('dist/main.js') && line.includes(marker));
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  describe(`npm start, stopped with ${signal}`, function () {
    this.timeout(60_000);

    it('stops the exporter (flushing, exit 0) and leaves no process behind', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'chanfitness-npm-start-'));
      const prefix = randomToken('npmstart');
      try {
        const npm = spawn(
          'npm',
          [
            'start',
            '--',
            `--store.url=sqlite://${join(dir, 'store.sqlite')}`,
            '--web.listen-address=127.0.0.1:0',
            `--nats.subject-prefix=${prefix}`,
            '--log.format=json',
          ],
          { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let output = '';
        npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const exited = new Promise<number | null>((done) => npm.once('exit', done));
        await eventually(
          () => output.includes('subscribed to channel and peer events'),
          () => `the exporter consuming:\n${output}`,
          40_000,
        );
        assert.ok(running(prefix), 'the exporter runs');
        npm.kill(signal);
        assert.equal(await exited, 0, output);
        assert.match(output, /final flap record flush done/);
        assert.match(output, /"msg":"stopped"/);
        assert.equal(running(prefix), false, 'no exporter left behind');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

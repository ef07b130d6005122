import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import { ExporterProcess } from '../support/exporter-process.js';

/**
 * The exporter listens before it opens its store. Here the store is held by
 * another process's exclusive lock, so the opening waits (up to --store.timeout):
 * meanwhile the process answers /healthz, is not ready, holds a scrape until the
 * store is open, and a SIGTERM is an orderly stop once started, not a kill.
 */
describe('the exporter process while its store opens', function () {
  this.timeout(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'chanfitness-opening-'));
  const path = join(dir, 'flaps.sqlite');
  let holder: KeyvSqlite | undefined;
  let exporter: ExporterProcess | undefined;

  after(async () => {
    await exporter?.dispose();
    await holder?.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves health, holds scrapes, and stops in order on a SIGTERM that comes meanwhile', async () => {
    // A rollback-journal database under an exclusive lock: nobody else can even read it.
    holder = new KeyvSqlite({ uri: `sqlite://${path}` });
    await holder.query('BEGIN EXCLUSIVE');

    exporter = await ExporterProcess.start({
      args: [
        `--store.url=sqlite://${path}`,
        '--store.timeout=20s',
        '--nats.url=nats://127.0.0.1:1',
      ],
    });
    const { url } = exporter;
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const readyz = await fetch(`${url}/readyz`);
    assert.deepEqual(
      [readyz.status, await readyz.text()],
      [503, 'not ready: opening the flap record store\n'],
    );
    let scraped = false;
    const scraping = fetch(`${url}/metrics`).finally(() => {
      scraped = true;
    });
    exporter.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(scraped, false, 'the scrape waits for the store');
    assert.equal(exporter.child.exitCode, null, `still starting:\n${exporter.output()}`);
    assert.ok(!exporter.logs().some((l) => l.msg === 'flap record store opened'));

    await holder.query('COMMIT');
    const scrape = await scraping;
    assert.equal(scrape.status, 200);
    assert.match(await scrape.text(), /^chanfitness_nats_connected 0$/m);
    const { code, signal } = await exporter.waitForExit();
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, exporter.output());
    const messages = exporter.logs().map((l) => l.msg);
    assert.ok(messages.includes('flap record store opened'), exporter.output());
    assert.ok(messages.includes('stopped'), exporter.output());
  });
});

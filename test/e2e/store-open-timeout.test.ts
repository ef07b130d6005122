import assert from 'node:assert/strict';
import { ExporterProcess } from '../support/exporter-process.js';

/** Milliseconds between two log lines, from their `time` fields. */
function between(from: Record<string, unknown>, to: Record<string, unknown>): number {
  return Date.parse(String(to.time)) - Date.parse(String(from.time));
}

// A recursive mkdir under /proc never returns on Linux (a thread spins on it): before
// the opening of the store was bounded, such a --store.url hung the exporter forever.
describe('the exporter process with a --store.url that never answers', function () {
  this.timeout(60_000);

  it('exits 2 with STORE_OPEN_FAILED once --store.timeout has passed', async () => {
    const path = '/proc/1/nope/x.sqlite';
    const cases = [
      { timeoutText: '1s', timeoutMs: 1_000 },
      // Long enough to be seen serving while the store opens.
      { timeoutText: '3s', timeoutMs: 3_000 },
    ];
    const started = performance.now();
    const exporters = await Promise.all(
      cases.map((c) =>
        ExporterProcess.start({
          args: [`--store.url=sqlite://${path}`, `--store.timeout=${c.timeoutText}`],
          noWait: true,
        }),
      ),
    );
    try {
      // The address is bound first: while the store opens, the process is alive, not
      // ready, and a scrape waits for the start, which fails here (503).
      const listening = await exporters[1]!.waitForLog((l) => l.msg === 'HTTP server listening');
      const url = String(listening.url);
      const scraping = fetch(`${url}/metrics`);
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      const readyz = await fetch(`${url}/readyz`);
      assert.deepEqual(
        [readyz.status, await readyz.text()],
        [503, 'not ready: opening the flap record store\n'],
      );
      const scrape = await scraping;
      assert.deepEqual([scrape.status, await scrape.text()], [503, 'the service did not start\n']);

      const exits = await Promise.all(exporters.map((e) => e.waitForExit(30_000)));
      // Two boots at once on a loaded machine, plus the longer timeout.
      assert.ok(performance.now() - started < 15_000, 'exited within a few seconds');
      cases.forEach((c, i) => {
        const exporter = exporters[i]!;
        assert.equal(exits[i]?.code, 2, exporter.output());
        assert.ok(
          exporter.stderr.includes(
            `chanfitness-exporter: --store.url (STORE_URL): opening the SQLite file ${path} timed ` +
              `out while creating its folder: it took longer than --store.timeout (STORE_TIMEOUT), ${c.timeoutText}`,
          ),
          exporter.stderr,
        );
        const logs = exporter.logs();
        const start = logs.find((l) => l.msg === 'starting chanfitness-exporter');
        const failed = logs.find((l) => l.msg === 'cannot start');
        assert.ok(start !== undefined && failed !== undefined, exporter.output());
        assert.equal(failed.code, 'STORE_OPEN_FAILED');
        // It waited for the timeout (not a failure at once), and not much longer.
        const waited = between(start, failed);
        assert.ok(waited >= c.timeoutMs, `gave up after ${waited} ms`);
        assert.ok(waited < c.timeoutMs + 4_000, `gave up after ${waited} ms`);
      });
    } finally {
      await Promise.all(exporters.map((e) => e.dispose()));
    }
  });
});

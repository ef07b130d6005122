import assert from 'node:assert/strict';
import { ExporterProcess } from '../support/exporter-process.js';

describe('the exporter process', function () {
  this.timeout(30_000);

  it('starts on its defaults, serves health, and exits 0 on SIGTERM', async () => {
    const exporter = await ExporterProcess.start();
    try {
      const health = await fetch(`${exporter.url}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(await health.text(), 'ok\n');
      const { code } = await exporter.stop('SIGTERM');
      assert.equal(code, 0);
      assert.ok(exporter.logs().some((l) => l.msg === 'stopped'));
    } finally {
      await exporter.dispose();
    }
  });

  it('exits 2 naming the setting when a setting is bad', async () => {
    const exporter = await ExporterProcess.start({
      args: ['--flap.flush-interval=soon'],
      noWait: true,
    });
    try {
      const { code } = await exporter.waitForExit();
      assert.equal(code, 2);
      assert.match(exporter.stderr, /--flap\.flush-interval \(FLAP_FLUSH_INTERVAL\)/);
    } finally {
      await exporter.dispose();
    }
  });
});

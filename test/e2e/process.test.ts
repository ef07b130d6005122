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

  // Issue 4, Tests, bullet 7: a bad setting exits 2 with a message naming it, flag or variable.
  it('exits 2 naming the setting for each kind of bad setting', async function () {
    // Several processes at once: generous for a loaded machine, each exits as soon as it has parsed.
    this.timeout(60_000);
    const cases: {
      what: string;
      args?: string[];
      env?: Record<string, string>;
      message: RegExp;
    }[] = [
      {
        what: 'bad duration from the environment',
        env: { FLAP_FLUSH_INTERVAL: 'soon' },
        message: /invalid --flap\.flush-interval \(FLAP_FLUSH_INTERVAL\): "soon"/,
      },
      {
        what: 'bad --store.url scheme',
        args: ['--store.url=ftp://127.0.0.1/flaps'],
        message: /invalid --store\.url \(STORE_URL\): "ftp:\/\/127\.0\.0\.1\/flaps"/,
      },
      {
        what: 'listen address without a port',
        args: ['--web.listen-address=localhost'],
        message: /invalid --web\.listen-address \(WEB_LISTEN_ADDRESS\): "localhost"/,
      },
      {
        what: '--nats.token with --nats.user',
        args: ['--nats.token=secret-token', '--nats.user=lnd', '--nats.password=pw'],
        message: /invalid --nats\.token \(NATS_TOKEN\): cannot be used with --nats\.user/,
      },
    ];
    // Concurrently: each process only parses its settings and exits.
    const exporters = await Promise.all(
      cases.map((c) => ExporterProcess.start({ args: c.args, env: c.env, noWait: true })),
    );
    try {
      const exits = await Promise.all(exporters.map((e) => e.waitForExit(45_000)));
      cases.forEach((c, i) => {
        const exporter = exporters[i]!;
        assert.equal(exits[i]?.code, 2, `${c.what}: ${exporter.output()}`);
        assert.match(exporter.stderr, c.message, c.what);
        assert.match(exporter.stderr, /--help/, c.what);
        // The secret of the token case is not echoed.
        assert.doesNotMatch(exporter.output(), /secret-token/, c.what);
        // Refused before serving or connecting to anything.
        assert.ok(!exporter.logs().some((l) => l.msg === 'HTTP server listening'), c.what);
      });
    } finally {
      await Promise.all(exporters.map((e) => e.dispose()));
    }
  });
});

import assert from 'node:assert/strict';
import { ExporterProcess } from '../support/exporter-process.js';

// An empty value (a blank variable in an env file, `--x=` from a template) used to
// read as unset: the exporter served without authentication or over plain HTTP.
describe('access: an empty security setting stops the exporter (real exporter)', function () {
  this.timeout(60_000);

  const cases: {
    what: string;
    args?: string[];
    env?: Record<string, string>;
    message: string;
  }[] = [
    {
      what: 'an empty --web.bearer-token',
      args: ['--web.bearer-token='],
      message:
        'chanfitness-exporter: invalid --web.bearer-token (WEB_BEARER_TOKEN): an empty value ' +
        'would turn off HTTP bearer-token authentication: leave the setting out to run without it',
    },
    {
      what: 'empty --web.tls-cert and --web.tls-key',
      args: ['--web.tls-cert=', '--web.tls-key='],
      message:
        'chanfitness-exporter: invalid --web.tls-cert (WEB_TLS_CERT): an empty value would turn ' +
        'off HTTPS: leave the setting out to run without it',
    },
    {
      what: 'a blank WEB_BASIC_AUTH_PASSWORD',
      args: ['--web.basic-auth-user=prometheus'],
      env: { WEB_BASIC_AUTH_PASSWORD: ' ' },
      message:
        'chanfitness-exporter: invalid --web.basic-auth-password (WEB_BASIC_AUTH_PASSWORD): an ' +
        'empty value would turn off HTTP basic authentication: leave the setting out to run ' +
        'without it',
    },
    {
      what: 'an empty NATS_TOKEN',
      env: { NATS_TOKEN: '' },
      message:
        'chanfitness-exporter: invalid --nats.token (NATS_TOKEN): an empty value would turn off ' +
        'NATS token authentication: leave the setting out to run without it',
    },
  ];

  it('exits 2 naming the flag and the variable, serving nothing', async () => {
    // Concurrently: each process only parses its settings and exits.
    const exporters = await Promise.all(
      cases.map((c) =>
        ExporterProcess.start({
          args: ['--store.url=sqlite://:memory:', ...(c.args ?? [])],
          env: c.env,
          noWait: true,
        }),
      ),
    );
    try {
      const exits = await Promise.all(exporters.map((e) => e.waitForExit(45_000)));
      cases.forEach((c, i) => {
        const exporter = exporters[i]!;
        assert.equal(exits[i]?.code, 2, `${c.what}: ${exporter.output()}`);
        assert.ok(exporter.stderr.includes(`${c.message}\n`), `${c.what}: ${exporter.stderr}`);
        assert.ok(!exporter.logs().some((l) => l.msg === 'HTTP server listening'), c.what);
      });
    } finally {
      await Promise.all(exporters.map((e) => e.dispose()));
    }
  });

  it('serves without the protection when the setting is left out', async () => {
    const exporter = await ExporterProcess.start({ args: ['--store.url=sqlite://:memory:'] });
    try {
      assert.match(exporter.url, /^http:\/\//);
      assert.equal((await fetch(`${exporter.url}/metrics`)).status, 200);
    } finally {
      await exporter.dispose();
    }
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExporterProcess } from '../support/exporter-process.js';

describe('the exporter process', function () {
  this.timeout(30_000);
  // Files of the cases below, removed at the end.
  const dir = mkdtempSync(join(tmpdir(), 'chanfitness-process-'));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

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
      {
        what: 'a --nats.creds file that is not a creds file',
        env: { NATS_CREDS: file('user.creds', 'user: lnd\npassword: secret-token\n') },
        message:
          /invalid --nats\.creds \(NATS_CREDS\): ".*user\.creds" is not a NATS credentials file/,
      },
      {
        what: 'a --nats.tls-ca file that is not PEM',
        args: [`--nats.tls-ca=${file('ca.der', 'not PEM\n')}`],
        message:
          /invalid --nats\.tls-ca \(NATS_TLS_CA\): ".*ca\.der" is not a PEM certificate file/,
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

  // A setting whose value cannot be used, found when it is used at start: exit 2 too.
  describe('settings that cannot be used', () => {
    let occupied: Server | undefined;
    after(async () => {
      const server = occupied;
      if (server !== undefined) await new Promise((resolve) => server.close(resolve));
    });

    const refused = async (args: string[], message: RegExp, what: string) => {
      const exporter = await ExporterProcess.start({ args, noWait: true });
      try {
        const { code } = await exporter.waitForExit(20_000);
        assert.equal(code, 2, `${what}: ${exporter.output()}`);
        assert.match(exporter.stderr, message, what);
        assert.ok(
          exporter.logs().some((l) => l.msg === 'cannot start' && typeof l.err === 'string'),
          what,
        );
        return exporter;
      } finally {
        await exporter.dispose();
      }
    };

    it('exits 2 naming --store.url and STORE_URL when the SQLite file cannot be created or opened', async () => {
      // A file where its folder should be.
      const notAFolder = file('not-a-folder', '');
      await refused(
        [`--store.url=sqlite://${notAFolder}/flaps.sqlite`],
        /chanfitness-exporter: --store\.url \(STORE_URL\): cannot create the folder of the SQLite file .*not-a-folder/,
        'folder',
      );
      await refused(
        [`--store.url=sqlite://${file('garbage.sqlite', 'not a database '.repeat(100))}`],
        /chanfitness-exporter: --store\.url \(STORE_URL\): \S*garbage\.sqlite is not an SQLite file/,
        'not a database',
      );
    });

    it('exits 2 naming --web.listen-address and WEB_LISTEN_ADDRESS when the address is in use or not on this host', async () => {
      const server = createServer();
      occupied = server;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      assert.ok(address !== null && typeof address === 'object');
      await refused(
        [`--web.listen-address=127.0.0.1:${address.port}`],
        /chanfitness-exporter: --web\.listen-address \(WEB_LISTEN_ADDRESS\): cannot listen on 127\.0\.0\.1:\d+: the address is in use.*\(EADDRINUSE\)/,
        'in use',
      );
      // TEST-NET-1 (RFC 5737): an address no interface of this host has.
      await refused(
        ['--web.listen-address=192.0.2.1:9766'],
        /chanfitness-exporter: --web\.listen-address \(WEB_LISTEN_ADDRESS\): cannot listen on 192\.0\.2\.1:9766: it is not an address of this host \(EADDRNOTAVAIL\)/,
        'not available',
      );
    });
  });
});

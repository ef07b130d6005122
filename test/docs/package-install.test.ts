import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { packageVersion } from '../../src/config/package-version.js';
import {
  FakeLnd,
  LIST_CHANNELS,
  makeTlsCert,
  randomChannelPoint,
  randomPubkey,
} from '../bridge/fake-lnd.js';
import { eventually } from '../support/eventually.js';
import { ExporterProcess } from '../support/exporter-process.js';
import { lndChannel, lndPeer } from '../support/lnd-json.js';

/**
 * The package as an operator gets it: `npm pack` (which builds first), then
 * `npm install <tarball>` into an empty folder, as `npm install -g` would, and both
 * programs run from there: `node_modules/.bin/chanfitness-exporter` and
 * `node_modules/.bin/chanfitness-lnd-bridge` (their shebang and npm's executable bit
 * included), the bridge against a fake lnd and the real NATS, the exporter bootstrapping
 * from it through its native SQLite store.
 *
 * Why it takes about two minutes: the install is a real one, with the npm registry
 * (packages come from npm's cache when it has them: --prefer-offline), and @keyv/sqlite's
 * sqlite3 has no prebuilt binary this machine can fetch, so npm builds SQLite from source
 * with node-gyp: about 100 s on 2 cores, most of the test. The build, the pack and the
 * runs take a few seconds each. Nothing is shortened by reusing the repository's
 * node_modules: that would not show that the package installs by itself.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const NATS_URL = 'nats://127.0.0.1:4222';
const INSTALL_LIMIT_MS = 8 * 60_000;

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of an operator's shell: none of npm's variables of this test run
 * (`npm test` passes the repository's .npmrc on as npm_config_*, engine-strict among
 * them), and none of the programs' own settings (NATS_URL, LOG_LEVEL, ...).
 */
function operatorEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !/^(npm_|INIT_CWD$|NATS_|LND_|LOG_|STORE_|WEB_|STATUS_|HISTORY_|FLAP_|GRAPHQL_|METRICS_|OBSERVER_)/i.test(
          name,
        ),
    ),
  );
}

/** Runs a command to its end (killed after limitMs), with its output. */
function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; limitMs?: number },
): Promise<Ran> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? operatorEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, options.limitMs ?? 30_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

function seconds(sinceMs: number): string {
  return `${((Date.now() - sinceMs) / 1000).toFixed(0)} s`;
}

describe('the npm package: packed, installed into an empty folder, both programs run from there', function () {
  this.timeout(60_000);
  const work = mkdtempSync(join(tmpdir(), 'chanfitness-package-'));
  const app = join(work, 'app');
  const bin = (name: string): string => join(app, 'node_modules', '.bin', name);
  let packed: string[] = [];

  before(async function () {
    this.timeout(INSTALL_LIMIT_MS + 120_000);
    const started = Date.now();
    // prepack builds dist/ first (an incremental tsc: seconds when nothing changed).
    const pack = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: ROOT,
      limitMs: 120_000,
    });
    assert.equal(pack.code, 0, `npm pack failed:\n${pack.stdout}\n${pack.stderr}`);
    // The JSON report follows whatever the build printed.
    const report = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('\n[') + 1)) as {
      filename: string;
      files: { path: string }[];
    }[];
    const tarball = join(work, report[0]?.filename ?? '');
    packed = report[0]?.files.map((f) => f.path) ?? [];
    const packTime = seconds(started);

    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'operator', version: '1.0.0', private: true }),
    );
    const installing = Date.now();
    const install = await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball],
      { cwd: app, limitMs: INSTALL_LIMIT_MS },
    );
    assert.equal(
      install.code,
      0,
      `npm install of the tarball failed (${seconds(installing)}):\n${install.stdout}\n${install.stderr.slice(-4000)}`,
    );
    console.log(`      (npm pack ${packTime}, npm install ${seconds(installing)})`);
  });

  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it("ships what both programs need, and none of the repository's sources, tests or tools", () => {
    for (const path of [
      'package.json',
      'README.md',
      'dist/main.js',
      'dist/bridge/main.js',
      'graphql/schema.graphql',
      'deploy/README.md',
      'deploy/chanfitness-exporter.service',
      'deploy/chanfitness-lnd-bridge.service',
    ]) {
      assert.ok(packed.includes(path), `${path} is in the package`);
    }
    assert.ok(packed.some((path) => path.startsWith('grafana/dashboards/')));
    assert.ok(packed.some((path) => path.startsWith('grafana/alerts/')));
    const stray = packed.filter((path) =>
      /^(src|test|scripts|bench|node_modules|data)\/|tsbuildinfo$/.test(path),
    );
    assert.deepEqual(stray, []);
  });

  it('runs chanfitness-exporter: --help and --version exit 0', async () => {
    const help = await run(bin('chanfitness-exporter'), ['--help'], { cwd: app });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: chanfitness-exporter \[options\]/);
    assert.match(help.stdout, /--store\.url <url>/);
    const version = await run(bin('chanfitness-exporter'), ['--version'], { cwd: app });
    assert.deepEqual([version.code, version.stdout], [0, `${packageVersion()}\n`]);
  });

  it('runs chanfitness-lnd-bridge: --help and --version exit 0, a bad setting exits 2 naming its flag and variable', async () => {
    const help = await run(bin('chanfitness-lnd-bridge'), ['--help'], { cwd: app });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: chanfitness-lnd-bridge \[options\]/);
    assert.match(help.stdout, /--lnd\.macaroon <file>/);
    const version = await run(bin('chanfitness-lnd-bridge'), ['--version'], { cwd: app });
    assert.deepEqual([version.code, version.stdout], [0, `${packageVersion()}\n`]);

    const bad = await run(
      bin('chanfitness-lnd-bridge'),
      ['--lnd.node', 'mynode', '--lnd.macaroon', join(work, 'missing.macaroon')],
      { cwd: app },
    );
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /invalid --lnd\.macaroon \(LND_MACAROON\): file ".*" does not exist/);
    const blank = await run(bin('chanfitness-lnd-bridge'), [], {
      cwd: app,
      env: { ...operatorEnv(), LND_NODE: 'mynode', LND_MACAROON: ' ' },
    });
    assert.equal(blank.code, 2, blank.stderr);
    assert.match(blank.stderr, /--lnd\.macaroon \(LND_MACAROON\)/);
  });

  describe('against a fake lnd and the real NATS', () => {
    const prefix = `chanfitness-test-pkg-${randomUUID().slice(0, 8)}`;
    const node = 'pkgnode';
    const macaroon = Buffer.concat([Buffer.from([2, 1]), randomBytes(64)]);
    const macaroonFile = join(work, 'readonly.macaroon');
    let lnd: FakeLnd;
    let nc: NatsConnection;
    const statuses: string[] = [];

    before(async () => {
      writeFileSync(macaroonFile, macaroon);
      const tls = makeTlsCert(work);
      lnd = await FakeLnd.start(tls.certFile, tls.keyFile, macaroon.toString('hex'));
      const peer = randomPubkey();
      lnd.channels = [lndChannel(peer, randomChannelPoint(0), { chanId: '880000000000000001' })];
      lnd.peers = [lndPeer(peer)];
      nc = await connect({ servers: NATS_URL, name: 'chanfitness-package-test' });
      nc.subscribe(`${prefix}.${node}.status`, {
        callback: (err, msg) => {
          if (err === null) statuses.push(String(msg.json<{ lnd?: unknown }>().lnd));
        },
      });
      await nc.flush();
    });

    after(async () => {
      await nc.drain();
      await lnd.close();
    });

    it('the installed bridge publishes lnd up, answers ListChannels as lnd sent it, and the installed exporter bootstraps from it', async () => {
      const bridge = spawn(
        bin('chanfitness-lnd-bridge'),
        ['--lnd.node', node, '--lnd.rest-url', lnd.url, '--nats.subject-prefix', prefix],
        {
          cwd: app,
          env: {
            ...operatorEnv(),
            LND_MACAROON: macaroonFile,
            LND_TLS_CERT: join(work, 'tls.cert'),
            NATS_URL,
            LOG_FORMAT: 'json',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      bridge.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      bridge.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const exited = new Promise<number | null>((resolveExit) => bridge.once('exit', resolveExit));
      let exporter: ExporterProcess | undefined;
      try {
        await eventually(
          () => statuses.includes('up'),
          () => `lnd up on NATS:\n${output}`,
          15_000,
        );
        const reply = await nc.request(`${prefix}.${node}.rpc.list_channels`, '{}', {
          timeout: 5_000,
        });
        assert.equal(reply.string(), lnd.lastBodies.get(LIST_CHANNELS));
        assert.match(output, /"service":"chanfitness-lnd-bridge","node":"pkgnode"/);
        assert.equal(output.includes(macaroon.toString('hex')), false, 'the macaroon was logged');

        // The installed exporter, its store in SQLite (the native module the install built).
        exporter = await ExporterProcess.start({
          bin: bin('chanfitness-exporter'),
          args: [
            `--nats.subject-prefix=${prefix}`,
            `--nats.nodes=${node}`,
            `--store.url=sqlite://${join(work, 'store.sqlite')}`,
          ],
        });
        const bootstrapped = await exporter.waitForLog((l) => l.msg === 'bootstrapped node');
        assert.equal(bootstrapped.channels, 1);
        const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
        assert.match(metrics, new RegExp(`chanfitness_peer_channels\\{node="${node}",`));
        // GraphQL too: graphql-yoga and its dependencies as npm resolved them for the package.
        const graphql = await fetch(`${exporter.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({ query: '{ nodes { id channelCount } }' }),
        });
        assert.deepEqual(await graphql.json(), {
          data: { nodes: [{ id: node, channelCount: 1 }] },
        });
        assert.deepEqual(await exporter.stop(), { code: 0, signal: null });

        bridge.kill('SIGTERM');
        assert.equal(await exited, 0, output);
        await eventually(() => statuses.at(-1) === 'down', 'lnd down at the stop', 5_000);
      } finally {
        await exporter?.dispose();
        if (bridge.exitCode === null) bridge.kill('SIGKILL');
      }
    });
  });

  it('installs the programs npm links as executables (shebang and bin entries)', () => {
    const pkg = JSON.parse(
      readFileSync(join(app, 'node_modules', 'chanfitness-exporter', 'package.json'), 'utf8'),
    ) as { bin: Record<string, string> };
    assert.deepEqual(pkg.bin, {
      'chanfitness-exporter': 'dist/main.js',
      'chanfitness-lnd-bridge': 'dist/bridge/main.js',
    });
    for (const file of Object.values(pkg.bin)) {
      const text = readFileSync(join(app, 'node_modules', 'chanfitness-exporter', file), 'utf8');
      assert.ok(text.startsWith('#!/usr/bin/env node\n'), file);
    }
  });
});

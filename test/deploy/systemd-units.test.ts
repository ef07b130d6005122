import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseBridgeSettings } from '../../src/bridge/config/parse-bridge-settings.js';
import { parseSettings } from '../../src/config/parse-settings.js';
import { makeTlsCert } from '../bridge/fake-lnd.js';

/**
 * The systemd units of deploy/: they run the installed programs (no checkout, no tsx),
 * hardened, restarting; the settings they set are valid settings of those programs; and
 * systemd itself accepts them (when systemd-analyze is on the machine).
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const UNITS = {
  'chanfitness-exporter.service': 'chanfitness-exporter',
  'chanfitness-lnd-bridge.service': 'chanfitness-lnd-bridge',
} as const;

function unit(name: keyof typeof UNITS): string {
  return readFileSync(join(ROOT, 'deploy', name), 'utf8');
}

/** The values of a directive, in order (`Environment=` may come many times). */
function directives(text: string, key: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => line.slice(key.length + 1));
}

/** The `Environment=NAME=value` defaults of a unit, `%d` (the credentials folder) replaced. */
function environment(text: string, credentials: string): NodeJS.ProcessEnv {
  return Object.fromEntries(
    directives(text, 'Environment').map((assignment) => {
      const eq = assignment.indexOf('=');
      return [assignment.slice(0, eq), assignment.slice(eq + 1).replaceAll('%d', credentials)];
    }),
  );
}

describe('deploy/: systemd units of the two programs', () => {
  it('run the installed bins, hardened, restarting, with the secrets in an environment file', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
      files: string[];
    };
    assert.ok(pkg.files.includes('deploy'), 'the units ship in the package');
    for (const [name, bin] of Object.entries(UNITS) as [keyof typeof UNITS, string][]) {
      const text = unit(name);
      assert.ok(pkg.bin[bin] !== undefined, `${bin} is a bin of the package`);
      assert.deepEqual(directives(text, 'ExecStart'), [`/usr/bin/${bin}`], name);
      assert.doesNotMatch(text, /tsx|\/opt\/chanfitness-exporter|WorkingDirectory=\/opt/, name);
      assert.deepEqual(directives(text, 'Restart'), ['always'], name);
      assert.deepEqual(directives(text, 'RestartPreventExitStatus'), ['2'], name);
      assert.match(directives(text, 'EnvironmentFile')[0] ?? '', /^\/etc\/chanfitness\/.+\.env$/);
      assert.deepEqual(directives(text, 'User'), ['chanfitness'], name);
      for (const hardening of [
        'NoNewPrivileges=yes',
        'ProtectSystem=strict',
        'ProtectHome=yes',
        'PrivateTmp=yes',
        'PrivateDevices=yes',
        'CapabilityBoundingSet=',
        'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
        'SystemCallFilter=@system-service',
      ]) {
        assert.ok(text.split('\n').includes(hardening), `${name}: ${hardening}`);
      }
      // V8 writes executable memory: this one would kill Node.js at start.
      assert.doesNotMatch(text, /^MemoryDenyWriteExecute=yes/m, name);
    }
    const exporter = unit('chanfitness-exporter.service');
    assert.deepEqual(directives(exporter, 'StateDirectory'), ['chanfitness']);
    assert.deepEqual(directives(exporter, 'ReadWritePaths'), ['/var/lib/chanfitness']);
  });

  it("set only valid settings: the exporter's store in its writable folder, the bridge's lnd files from systemd's credentials", () => {
    const dir = mkdtempSync(join(tmpdir(), 'chanfitness-deploy-'));
    try {
      const exporterEnv = environment(unit('chanfitness-exporter.service'), dir);
      const settings = parseSettings([], exporterEnv);
      assert.equal(settings.kind, 'settings');
      assert.match(exporterEnv.STORE_URL ?? '', /^sqlite:\/\/\/var\/lib\/chanfitness\//);
      assert.equal(exporterEnv.LOG_FORMAT, 'json');

      // What LoadCredential= hands over: lnd's macaroon and tls.cert, in %d.
      const bridgeUnit = unit('chanfitness-lnd-bridge.service');
      const credentials = directives(bridgeUnit, 'LoadCredential').map((c) => c.split(':')[0]);
      assert.deepEqual(credentials, ['lnd.macaroon', 'lnd-tls.cert']);
      writeFileSync(join(dir, 'lnd.macaroon'), Buffer.from([2, 1, 3]));
      const cert = makeTlsCert(dir);
      writeFileSync(join(dir, 'lnd-tls.cert'), readFileSync(cert.certFile));
      const bridgeEnv = environment(bridgeUnit, dir);
      const bridge = parseBridgeSettings([], { ...bridgeEnv, LND_NODE: 'mynode' });
      if (bridge.kind !== 'settings') assert.fail(bridge.kind);
      assert.equal(bridge.settings.lnd.macaroonFile, join(dir, 'lnd.macaroon'));
      assert.equal(bridge.settings.lnd.tlsCertFile, join(dir, 'lnd-tls.cert'));
      assert.equal(bridge.settings.log.format, 'json');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are accepted by systemd (systemd-analyze verify), the bins pointed at the built ones', function () {
    const which = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (which.error !== undefined) this.skip(); // no systemd tools on this machine
    const dir = mkdtempSync(join(tmpdir(), 'chanfitness-deploy-verify-'));
    try {
      const files = Object.entries(UNITS).map(([name, bin]) => {
        const built = join(
          ROOT,
          'dist',
          bin === 'chanfitness-exporter' ? 'main.js' : 'bridge/main.js',
        );
        assert.ok(existsSync(built), `${built} is missing: run \`npm run build\` first`);
        // systemd checks that the program exists and is executable: node, with the built bin.
        const text = readFileSync(join(ROOT, 'deploy', name), 'utf8').replace(
          `ExecStart=/usr/bin/${bin}`,
          `ExecStart=${process.execPath} ${built}`,
        );
        const file = join(dir, name);
        writeFileSync(file, text);
        return file;
      });
      // A directive systemd does not know or cannot parse is only a warning (exit 0) on stderr.
      const verify = spawnSync('systemd-analyze', ['verify', '--man=no', ...files], {
        encoding: 'utf8',
      });
      assert.equal(`${verify.stdout}${verify.stderr}`.trim(), '');
      assert.equal(verify.status, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

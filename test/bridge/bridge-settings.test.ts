import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  BRIDGE_SETTING_DEFINITIONS,
  BRIDGE_SETTINGS,
} from '../../src/bridge/config/bridge-setting-definitions.js';
import { describeBridgeSettings } from '../../src/bridge/config/describe-bridge-settings.js';
import { parseBridgeSettings } from '../../src/bridge/config/parse-bridge-settings.js';
import { packageVersion } from '../../src/config/package-version.js';
import {
  definitionOf,
  envVarOf,
  type SettingDefinition,
  type SettingName,
} from '../../src/config/setting-definitions.js';
import { SettingsError } from '../../src/config/settings-error.js';
import { makeTlsCert } from './fake-lnd.js';
import { bridgeSettingsOf } from './settings-of.js';

describe('lnd bridge settings (the exporter’s machinery: flags, variables, defaults)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chanfitness-bridge-settings-'));
  const macaroonFile = join(dir, 'readonly.macaroon');
  const emptyFile = join(dir, 'empty.macaroon');
  const notPem = join(dir, 'not-a-cert.pem');
  let tlsCert: string;
  const required = ['--lnd.node', 'mynode', '--lnd.macaroon', macaroonFile];

  before(() => {
    writeFileSync(macaroonFile, Buffer.from([2, 1, 3, 4]));
    writeFileSync(emptyFile, '');
    writeFileSync(notPem, 'hello\n');
    tlsCert = makeTlsCert(dir).certFile;
  });

  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** The SettingsError of a command line and environment. */
  const refusal = (args: readonly string[], env: NodeJS.ProcessEnv = {}): SettingsError => {
    try {
      parseBridgeSettings(args, env);
    } catch (err) {
      if (err instanceof SettingsError) return err;
      throw err;
    }
    return assert.fail(`accepted: ${args.join(' ')} ${JSON.stringify(env)}`);
  };

  it('has defaults for all but the node and the macaroon', () => {
    const settings = bridgeSettingsOf(required);
    assert.deepEqual(
      { ...settings, lnd: { ...settings.lnd, restUrl: settings.lnd.restUrl.href } },
      {
        lnd: {
          restUrl: 'https://127.0.0.1:8080/',
          macaroonFile,
          tlsCertFile: undefined,
          timeoutMs: 30_000,
          retryMinMs: 1_000,
          retryMaxMs: 10_000,
        },
        node: 'mynode',
        status: { intervalMs: 15_000 },
        nats: {
          servers: ['nats://127.0.0.1:4222'],
          name: 'chanfitness-lnd-bridge-mynode',
          subjectPrefix: 'lnd',
          auth: { kind: 'none' },
          tls: undefined,
          jetstream: false,
        },
        log: { level: 'info', format: 'auto' },
      },
    );
    assert.ok(Object.isFrozen(settings) && Object.isFrozen(settings.nats.servers));
  });

  it('reads every setting from its variable, and a flag wins over it', () => {
    const env = {
      LND_NODE: 'fromenv',
      LND_MACAROON: macaroonFile,
      LND_REST_URL: 'https://lnd.example:8080/lnd',
      LND_TLS_CERT: tlsCert,
      LND_TIMEOUT: '5s',
      LND_RETRY_MIN: '2s',
      LND_RETRY_MAX: '1m',
      STATUS_INTERVAL: '5s',
      NATS_URL: 'nats://10.0.0.1:4222,nats://10.0.0.2:4222',
      NATS_SUBJECT_PREFIX: 'prod.lnd',
      NATS_JETSTREAM: 'yes',
      NATS_TOKEN: 's3cret',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'json',
    };
    const fromEnv = bridgeSettingsOf([], env);
    assert.equal(fromEnv.node, 'fromenv');
    assert.equal(fromEnv.lnd.restUrl.href, 'https://lnd.example:8080/lnd/');
    assert.equal(fromEnv.lnd.tlsCertFile, tlsCert);
    assert.deepEqual(
      [fromEnv.lnd.timeoutMs, fromEnv.lnd.retryMinMs, fromEnv.lnd.retryMaxMs],
      [5_000, 2_000, 60_000],
    );
    assert.equal(fromEnv.status.intervalMs, 5_000);
    assert.deepEqual(fromEnv.nats.servers, ['nats://10.0.0.1:4222', 'nats://10.0.0.2:4222']);
    assert.equal(fromEnv.nats.subjectPrefix, 'prod.lnd');
    assert.equal(fromEnv.nats.jetstream, true);
    assert.deepEqual(fromEnv.nats.auth, { kind: 'token', token: 's3cret' });
    assert.deepEqual(fromEnv.log, { level: 'debug', format: 'json' });

    const flagged = bridgeSettingsOf(
      ['--lnd.node', 'fromflag', '--status.interval=1s', '--no-nats.jetstream'],
      env,
    );
    assert.equal(flagged.node, 'fromflag');
    assert.equal(flagged.nats.name, 'chanfitness-lnd-bridge-fromflag');
    assert.equal(flagged.status.intervalMs, 1_000);
    assert.equal(flagged.nats.jetstream, false);
  });

  it('refuses a bad value at start, naming the flag and the variable', () => {
    const cases: [string[], RegExp][] = [
      [['--lnd.rest-url', 'ftp://lnd:21'], /--lnd\.rest-url \(LND_REST_URL\).*https:\/\//],
      [['--lnd.rest-url', 'https://u:p@lnd:8080'], /--lnd\.rest-url \(LND_REST_URL\)/],
      [['--lnd.timeout', '30'], /--lnd\.timeout \(LND_TIMEOUT\).*no unit/],
      [['--lnd.retry-min', '1ms'], /--lnd\.retry-min \(LND_RETRY_MIN\).*minimum 10ms/],
      [['--status.interval', '10ms'], /--status\.interval \(STATUS_INTERVAL\).*minimum 50ms/],
      [['--lnd.node', 'a.b'], /--lnd\.node \(LND_NODE\).*one subject token/],
      [
        ['--lnd.macaroon', join(dir, 'missing')],
        /--lnd\.macaroon \(LND_MACAROON\).*does not exist/,
      ],
      [['--lnd.macaroon', emptyFile], /--lnd\.macaroon \(LND_MACAROON\).*empty/],
      [['--lnd.tls-cert', notPem], /--lnd\.tls-cert \(LND_TLS_CERT\).*not a PEM certificate/],
      [['--nats.url', 'ws://127.0.0.1:8080'], /--nats\.url \(NATS_URL\).*WebSocket/],
      [['--log.level', 'loud'], /--log\.level \(LOG_LEVEL\)/],
      [['--nats.jetstream=maybe'], /--nats\.jetstream \(NATS_JETSTREAM\)/],
      [
        ['--lnd.retry-min', '20s'],
        /--lnd\.retry-min \(LND_RETRY_MIN\): must not be longer than --lnd\.retry-max/,
      ],
      [
        ['--lnd.retry-max', '100ms'],
        /--lnd\.retry-max \(LND_RETRY_MAX\): must not be shorter than --lnd\.retry-min/,
      ],
      [['--nats.user', 'u'], /--nats\.user \(NATS_USER\): requires --nats\.password/],
      [
        ['--nats.user', 'u', '--nats.password', 'p', '--nats.token', 't'],
        /--nats\.token \(NATS_TOKEN\): cannot be used with --nats\.user/,
      ],
      [
        ['--nats.tls-cert', tlsCert],
        /--nats\.tls-cert \(NATS_TLS_CERT\): requires --nats\.tls-key/,
      ],
      [['--lnd.nod', 'x'], /unknown option '--lnd\.nod' \(did you mean --lnd\.node\?\)/],
    ];
    for (const [args, message] of cases) {
      const err = refusal([...required, ...args]);
      assert.match(err.message, message, args.join(' '));
    }
    assert.match(refusal([]).message, /^invalid --lnd\.node \(LND_NODE\): a value is required$/);
    assert.match(
      refusal(['--lnd.node', 'n']).message,
      /^invalid --lnd\.macaroon \(LND_MACAROON\): a value is required$/,
    );
  });

  it('refuses an empty or blank macaroon, TLS file or credential rather than running without it', () => {
    const blanks: [NodeJS.ProcessEnv, RegExp][] = [
      [{ LND_MACAROON: '' }, /--lnd\.macaroon \(LND_MACAROON\)/],
      [{ LND_MACAROON: '  ' }, /--lnd\.macaroon \(LND_MACAROON\)/],
      [{ LND_TLS_CERT: '' }, /--lnd\.tls-cert \(LND_TLS_CERT\).*turn off verifying lnd/],
      [{ LND_TLS_CERT: ' ' }, /--lnd\.tls-cert \(LND_TLS_CERT\).*turn off/],
      [{ NATS_TOKEN: '' }, /--nats\.token \(NATS_TOKEN\).*turn off NATS token/],
      [{ NATS_PASSWORD: '' }, /--nats\.password \(NATS_PASSWORD\).*turn off/],
      [{ NATS_USER: '' }, /--nats\.user \(NATS_USER\).*turn off/],
      [{ NATS_CREDS: '' }, /--nats\.creds \(NATS_CREDS\).*turn off/],
      [{ NATS_TLS_CA: '' }, /--nats\.tls-ca \(NATS_TLS_CA\).*turn off/],
      [{ NATS_TLS_CERT: '' }, /--nats\.tls-cert \(NATS_TLS_CERT\).*turn off/],
      [{ NATS_TLS_KEY: '' }, /--nats\.tls-key \(NATS_TLS_KEY\).*turn off/],
    ];
    for (const [env, message] of blanks) {
      // The macaroon from the flag unless the case is about the macaroon's variable.
      const args = 'LND_MACAROON' in env ? ['--lnd.node', 'n'] : required;
      assert.match(refusal(args, env).message, message, JSON.stringify(env));
    }
    assert.match(
      refusal([...required, '--lnd.tls-cert=']).message,
      /--lnd\.tls-cert \(LND_TLS_CERT\).*turn off/,
    );
    // A blank variable of a setting that protects nothing is unset, as in the exporter.
    assert.equal(bridgeSettingsOf(required, { STATUS_INTERVAL: '' }).status.intervalMs, 15_000);
  });

  it("shares the exporter's NATS and log settings: the same flags, variables, defaults and checks", () => {
    const shared = (BRIDGE_SETTING_DEFINITIONS as readonly SettingDefinition<string>[])
      .filter((d) => d.name.startsWith('nats.') || d.name.startsWith('log.'))
      .filter((d) => d.name !== 'nats.jetstream');
    assert.equal(shared.length, 12);
    for (const definition of shared) {
      const exporter: SettingDefinition<string> = definitionOf(definition.name as SettingName);
      assert.equal(definition.default, exporter.default, definition.name);
      assert.equal(definition.security, exporter.security, definition.name);
      assert.equal(definition.secret, exporter.secret, definition.name);
    }
    // The same check as the exporter: a .creds file that is not one is refused at start.
    assert.match(
      refusal([...required, '--nats.creds', notPem]).message,
      /--nats\.creds \(NATS_CREDS\).*not a NATS credentials file/,
    );
  });

  it('expands ~ in the lnd files, as a shell would (service managers do not)', () => {
    // os.homedir() is $HOME on POSIX: point it at the test's folder for this synchronous check.
    const home = process.env.HOME;
    process.env.HOME = dir;
    try {
      const settings = bridgeSettingsOf([
        ...['--lnd.node', 'n', '--lnd.macaroon', '~/readonly.macaroon'],
        ...['--lnd.tls-cert', `~/${basename(tlsCert)}`],
      ]);
      assert.equal(settings.lnd.macaroonFile, macaroonFile);
      assert.equal(settings.lnd.tlsCertFile, tlsCert);
    } finally {
      if (home === undefined) delete process.env.HOME;
      else process.env.HOME = home;
    }
  });

  it('prints every setting with its variable in --help, and the version with --version', () => {
    const help = parseBridgeSettings(['--help'], {});
    if (help.kind !== 'help') assert.fail(help.kind);
    // Commander wraps the lines: compare with the wrapping undone.
    const text = help.text.replace(/\s+/g, ' ');
    assert.match(text, /^Usage: chanfitness-lnd-bridge \[options\]/);
    for (const definition of BRIDGE_SETTINGS.definitions) {
      assert.ok(text.includes(`--${definition.name}`), definition.name);
      assert.ok(text.includes(`env: ${envVarOf(definition.name)}`), envVarOf(definition.name));
    }
    assert.deepEqual(parseBridgeSettings(['--version'], {}), {
      kind: 'version',
      text: `${packageVersion()}\n`,
    });
  });

  it('logs its settings without the NATS password or token', () => {
    for (const env of [
      { NATS_USER: 'u', NATS_PASSWORD: 'pw-s3cret' },
      { NATS_TOKEN: 'tk-s3cret' },
    ]) {
      const text = JSON.stringify(describeBridgeSettings(bridgeSettingsOf(required, env)));
      assert.doesNotMatch(text, /s3cret/);
      assert.match(text, /\[redacted\]/);
      assert.match(text, /"restUrl":"https:\/\/127\.0\.0\.1:8080\/"/);
    }
  });
});

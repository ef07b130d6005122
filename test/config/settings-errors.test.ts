import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { CodedError } from '../../src/errors.js';
import { parseSettings } from '../../src/config/parse-settings.js';
import { SettingsError } from '../../src/config/settings-error.js';
import {
  envVarOf,
  SETTING_DEFINITIONS,
  type SettingName,
} from '../../src/config/setting-definitions.js';
import { credsText, settingsErrorOf, settingsOf, TempFiles } from './fixtures.js';

/** A value of one setting that must be refused, with the flags it needs alongside. */
interface InvalidCase {
  readonly name: SettingName;
  readonly value: string;
  readonly reason: RegExp;
  readonly along?: readonly string[];
}

describe('settings errors', () => {
  const files = new TempFiles();
  const { certFile: cert, keyFile: key } = files.certificateAndKey('cert.pem', 'key.pem');
  const missing = join(files.dir, 'missing.pem');
  after(() => {
    files.remove();
  });

  const invalid: InvalidCase[] = [
    { name: 'nats.url', value: 'http://n:4222', reason: /must start with nats:\/\/ or tls:\/\// },
    { name: 'nats.name', value: ' ', reason: /a value is required/ },
    { name: 'nats.subject-prefix', value: 'lnd.*', reason: /not a subject prefix/ },
    { name: 'nats.nodes', value: 'alice,bob.x', reason: /"bob\.x" is not a node name/ },
    { name: 'nats.max-nodes', value: '0', reason: /less than the minimum 1/ },
    {
      name: 'nats.max-nodes',
      value: '2',
      reason: /2 is less than the 3 nodes named by --nats\.nodes \(NATS_NODES\)/,
      along: ['--nats.nodes=a,b,c'],
    },
    { name: 'nats.stream', value: 'my stream', reason: /not a JetStream name/ },
    { name: 'nats.durable', value: 'a.b', reason: /not a JetStream name/ },
    { name: 'nats.create-stream', value: 'maybe', reason: /not a boolean/ },
    { name: 'nats.stream-max-age', value: '500ms', reason: /shorter than the minimum 1s/ },
    { name: 'nats.max-in-flight', value: '0', reason: /less than the minimum 1/ },
    { name: 'nats.bootstrap-timeout', value: '5', reason: /has no unit/ },
    { name: 'nats.creds', value: missing, reason: /does not exist/ },
    { name: 'nats.user', value: 'alice', reason: /requires --nats\.password \(NATS_PASSWORD\)/ },
    { name: 'nats.password', value: 'pw', reason: /requires --nats\.user \(NATS_USER\)/ },
    {
      name: 'nats.token',
      value: 'tok',
      reason: /cannot be used with --nats\.user \(NATS_USER\)/,
      along: ['--nats.user=u', '--nats.password=p'],
    },
    { name: 'nats.tls', value: 'sure', reason: /not a boolean/ },
    { name: 'nats.tls-ca', value: missing, reason: /does not exist/ },
    { name: 'nats.tls-cert', value: cert, reason: /requires --nats\.tls-key \(NATS_TLS_KEY\)/ },
    { name: 'nats.tls-key', value: key, reason: /requires --nats\.tls-cert \(NATS_TLS_CERT\)/ },
    { name: 'store.url', value: 'mysql://h/db', reason: /not a store URL/ },
    { name: 'store.timeout', value: '-1s', reason: /not a duration/ },
    {
      name: 'flap.flush-interval',
      value: 'abc',
      reason: /"abc" is not a duration \(e\.g\. 90s, 1h\)/,
    },
    { name: 'history', value: 'perhaps', reason: /not a boolean/ },
    { name: 'history.snapshot-interval', value: '10ms', reason: /shorter than the minimum 1s/ },
    { name: 'history.retention', value: '5m', reason: /shorter than the minimum 1h/ },
    { name: 'observer.timeout', value: '100ms', reason: /shorter than the minimum 1s/ },
    { name: 'observer.settle', value: '-1m', reason: /not a duration/ },
    { name: 'history.pending-limit', value: '-3', reason: /not a whole number|less than/ },
    { name: 'metrics.windows', value: '1d,30s', reason: /"30s" is shorter than the minimum 1m/ },
    { name: 'metrics.windows', value: '1d,,7d', reason: /empty item/ },
    { name: 'metrics.windows', value: '7d,168h', reason: /"168h" is the window 7d again/ },
    { name: 'web.listen-address', value: 'localhost', reason: /not host:port/ },
    {
      name: 'web.tls-cert',
      value: missing,
      reason: /does not exist/,
      along: [`--web.tls-key=${key}`],
    },
    { name: 'web.tls-key', value: key, reason: /requires --web\.tls-cert \(WEB_TLS_CERT\)/ },
    {
      name: 'web.basic-auth-user',
      value: 'u',
      reason: /requires --web\.basic-auth-password \(WEB_BASIC_AUTH_PASSWORD\)/,
    },
    {
      name: 'web.basic-auth-password',
      value: 'p',
      reason: /requires --web\.basic-auth-user \(WEB_BASIC_AUTH_USER\)/,
    },
    {
      name: 'web.bearer-token',
      value: 't',
      reason: /cannot be used with basic authentication --web\.basic-auth-user/,
      along: ['--web.basic-auth-user=u', '--web.basic-auth-password=p'],
    },
    { name: 'web.cors-origin', value: 'ftp://files.example', reason: /not an origin/ },
    { name: 'web.header-timeout', value: '500ms', reason: /shorter than the minimum 1s/ },
    {
      name: 'web.header-timeout',
      value: '31s',
      reason: /must not be longer than --web\.request-timeout \(WEB_REQUEST_TIMEOUT\)/,
    },
    { name: 'web.request-timeout', value: '10', reason: /has no unit/ },
    {
      name: 'web.request-timeout',
      value: '5s',
      reason: /must not be shorter than --web\.header-timeout \(WEB_HEADER_TIMEOUT\)/,
    },
    { name: 'graphql.max-depth', value: '1.5', reason: /not a whole number/ },
    { name: 'graphql.max-cost', value: 'lots', reason: /not a whole number/ },
    { name: 'graphql.max-aliases', value: '0', reason: /less than the minimum 1/ },
    { name: 'graphql.max-subscriptions', value: '0', reason: /less than the minimum 1/ },
    { name: 'graphql.introspection', value: 'maybe', reason: /not a boolean/ },
    { name: 'graphql.graphiql', value: '2', reason: /not a boolean/ },
    {
      name: 'log.level',
      value: 'verbose',
      reason: /not one of fatal, error, warn, info, debug, trace, silent/,
    },
    { name: 'log.format', value: 'xml', reason: /not one of auto, json, pretty/ },
  ];

  it('has a case for every setting', () => {
    assert.deepEqual(
      [...new Set(invalid.map((c) => c.name))].sort(),
      SETTING_DEFINITIONS.map((d) => d.name).sort(),
    );
  });

  for (const c of invalid) {
    const flag = `--${c.name}`;
    const envVar = envVarOf(c.name);
    const along = c.along ?? [];
    for (const [source, argv, env] of [
      ['flag', [...along, `${flag}=${c.value}`], {}],
      ['variable', along, { [envVar]: c.value }],
    ] as const) {
      it(`${flag} ${JSON.stringify(c.value)} from the ${source} names ${flag} and ${envVar}`, () => {
        const err = settingsErrorOf(argv, env);
        assert.ok(err instanceof CodedError);
        assert.equal(err.code, 'INVALID_SETTING');
        assert.equal(err.flag, flag);
        assert.equal(err.envVar, envVar);
        assert.ok(err.message.startsWith(`invalid ${flag} (${envVar}): `), err.message);
        assert.match(err.message, c.reason);
      });
    }
  }

  it('does not look at a variable that a flag overrides', () => {
    assert.equal(settingsOf(['--log.level=warn'], { LOG_LEVEL: 'nonsense' }).log.level, 'warn');
  });

  describe('command line', () => {
    it('refuses an unknown option, naming it', () => {
      const err = settingsErrorOf(['--nats.urll=nats://a:1']);
      assert.equal(err.code, 'INVALID_ARGUMENTS');
      assert.equal(err.flag, '--nats.urll');
      assert.equal(err.envVar, undefined);
      assert.match(err.message, /unknown option '--nats\.urll'/);
      assert.match(err.message, /did you mean --nats\.url\?/);
    });

    it('does not repeat the value of an unknown option, which may be a secret', () => {
      const err = settingsErrorOf(['--nats.tokn=hunter2']);
      assert.equal(err.flag, '--nats.tokn');
      assert.ok(!err.message.includes('hunter2'), err.message);
    });

    it('refuses a short option it does not know', () => {
      const err = settingsErrorOf(['-x']);
      assert.equal(err.code, 'INVALID_ARGUMENTS');
      assert.match(err.message, /unknown option '-x'/);
    });

    it('refuses a missing value, naming the flag and its variable', () => {
      const err = settingsErrorOf(['--nats.url']);
      assert.equal(err.code, 'INVALID_SETTING');
      assert.equal(err.flag, '--nats.url');
      assert.equal(err.envVar, 'NATS_URL');
      assert.equal(err.message, 'invalid --nats.url (NATS_URL): a value is required');
    });

    it('refuses an empty value of a setting that must have one', () => {
      const err = settingsErrorOf(['--flap.flush-interval=']);
      assert.equal(
        err.message,
        'invalid --flap.flush-interval (FLAP_FLUSH_INTERVAL): a value is required',
      );
    });

    it('refuses a stray argument', () => {
      const err = settingsErrorOf(['--log.level=info', 'debug']);
      assert.equal(err.code, 'INVALID_ARGUMENTS');
      assert.match(err.message, /unexpected argument "debug"/);
    });

    it('refuses a value of a boolean flag that is not a boolean', () => {
      const err = settingsErrorOf(['--nats.tls', 'nats://n:4222']);
      assert.equal(err.flag, '--nats.tls');
    });
  });

  describe('conflicts', () => {
    const conflicts: [string, readonly string[], NodeJS.ProcessEnv, string, RegExp][] = [
      [
        'token with user',
        ['--nats.token=t', '--nats.user=u', '--nats.password=p'],
        {},
        '--nats.token',
        /--nats\.user/,
      ],
      [
        'token with password only',
        ['--nats.token=t'],
        { NATS_PASSWORD: 'p' },
        '--nats.token',
        /--nats\.password \(NATS_PASSWORD\)/,
      ],
      [
        'creds with token',
        [],
        { NATS_TOKEN: 't' },
        '--nats.creds',
        /cannot be used with --nats\.token \(NATS_TOKEN\)/,
      ],
      [
        'creds with user',
        ['--nats.user=u', '--nats.password=p'],
        {},
        '--nats.creds',
        /--nats\.user/,
      ],
      ['user without password', ['--nats.user=u'], {}, '--nats.user', /requires --nats\.password/],
      [
        'password without user',
        [],
        { NATS_PASSWORD: 'p' },
        '--nats.password',
        /requires --nats\.user/,
      ],
      [
        'create-stream without stream',
        ['--nats.create-stream'],
        {},
        '--nats.create-stream',
        /requires --nats\.stream \(NATS_STREAM\)/,
      ],
      [
        'bearer token with basic auth',
        ['--web.bearer-token=t'],
        { WEB_BASIC_AUTH_USER: 'u', WEB_BASIC_AUTH_PASSWORD: 'p' },
        '--web.bearer-token',
        /basic authentication/,
      ],
    ];
    const creds = files.creds('conflict.creds');
    for (const [what, argv, env, flag, reason] of conflicts) {
      it(`refuses ${what}`, () => {
        const err = settingsErrorOf(
          flag === '--nats.creds' ? [...argv, `--nats.creds=${creds}`] : argv,
          env,
        );
        assert.equal(err.code, 'INVALID_SETTING');
        assert.equal(err.flag, flag);
        assert.match(err.message, reason);
      });
    }

    it('accepts each way of authenticating alone', () => {
      assert.equal(settingsOf([`--nats.creds=${creds}`]).nats.auth.kind, 'creds');
      assert.equal(settingsOf(['--nats.token=t']).nats.auth.kind, 'token');
      assert.equal(
        settingsOf(['--nats.user=u', '--nats.password=p']).nats.auth.kind,
        'user-password',
      );
      assert.equal(settingsOf(['--web.bearer-token=t']).web.auth.kind, 'bearer');
    });
  });

  describe('files', () => {
    it('refuses a directory', () => {
      const dir = join(files.dir, 'a-directory');
      mkdirSync(dir);
      const err = settingsErrorOf([`--nats.creds=${dir}`]);
      assert.equal(err.flag, '--nats.creds');
      assert.match(err.message, /is not a file/);
    });

    it('refuses a missing file, quoting its path', () => {
      const err = settingsErrorOf([], { NATS_TLS_CA: missing });
      assert.equal(err.envVar, 'NATS_TLS_CA');
      assert.ok(err.message.includes(missing));
    });

    it('refuses an unreadable file', function () {
      // root reads any file: the check cannot fail there.
      if (process.getuid?.() === 0) this.skip();
      const locked = files.file('locked.creds');
      chmodSync(locked, 0o000);
      const err = settingsErrorOf([`--nats.creds=${locked}`]);
      assert.match(err.message, /is not readable/);
    });

    it('returns the path as given', () => {
      assert.deepEqual(settingsOf([`--web.tls-cert=${cert}`, `--web.tls-key=${key}`]).web.tls, {
        certFile: cert,
        keyFile: key,
      });
    });
  });

  // Files whose contents cannot be used: refused at start, not at every connection attempt.
  describe('file contents', () => {
    const seed = `SU${'Q'.repeat(56)}`;
    const jwt = 'eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJVIn0.c2ln';
    const other = files.certificateAndKey('other-cert.pem', 'other-key.pem');
    const encryptedKey = join(files.dir, 'encrypted-key.pem');
    execFileSync('openssl', [
      'pkey',
      '-in',
      key,
      '-aes256',
      '-passout',
      'pass:secret',
      '-out',
      encryptedKey,
    ]);
    const cases: { what: string; argv: string[]; flag: string; reason: RegExp }[] = [
      {
        what: 'a creds file that is text',
        argv: [`--nats.creds=${files.file('text.creds', 'user: alice\npassword: x\n')}`],
        flag: '--nats.creds',
        reason: /is not a NATS credentials file: it has no user JWT section/,
      },
      {
        what: 'a certificate as creds file',
        argv: [`--nats.creds=${cert}`],
        flag: '--nats.creds',
        reason: /is not a NATS credentials file/,
      },
      {
        what: 'a creds file without its seed',
        argv: [`--nats.creds=${files.file('jwt-only.creds', credsText(jwt).split('*')[0] ?? '')}`],
        flag: '--nats.creds',
        reason: /it has no NKey seed section/,
      },
      {
        what: 'a creds file whose first section is no JWT',
        argv: [`--nats.creds=${files.file('no-jwt.creds', credsText('not a jwt', seed))}`],
        flag: '--nats.creds',
        reason: /its first section does not hold a user JWT/,
      },
      {
        what: 'a creds file with an account seed',
        argv: [
          `--nats.creds=${files.file('account-seed.creds', credsText(jwt, `SA${'Q'.repeat(56)}`))}`,
        ],
        flag: '--nats.creds',
        reason: /its second section does not hold a user NKey seed/,
      },
      {
        what: 'a CA file that is not PEM',
        argv: [`--nats.tls-ca=${files.file('ca.txt', 'test\n')}`],
        flag: '--nats.tls-ca',
        reason: /is not a PEM certificate file/,
      },
      {
        what: 'a key as CA file',
        argv: [`--nats.tls-ca=${key}`],
        flag: '--nats.tls-ca',
        reason: /is not a PEM certificate file/,
      },
      {
        what: 'a broken certificate block',
        argv: [
          `--nats.tls-ca=${files.file('broken.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')}`,
        ],
        flag: '--nats.tls-ca',
        reason: /certificate 1 of ".*broken\.pem" cannot be read/,
      },
      {
        what: 'a NATS client certificate that is a key',
        argv: [`--nats.tls-cert=${key}`, `--nats.tls-key=${key}`],
        flag: '--nats.tls-cert',
        reason: /is not a PEM certificate file/,
      },
      {
        what: 'a NATS client key that is a certificate',
        argv: [`--nats.tls-cert=${cert}`, `--nats.tls-key=${cert}`],
        flag: '--nats.tls-key',
        reason: /is not a PEM private key file/,
      },
      {
        what: 'an encrypted NATS client key',
        argv: [`--nats.tls-cert=${cert}`, `--nats.tls-key=${encryptedKey}`],
        flag: '--nats.tls-key',
        reason: /is encrypted: use an unencrypted one/,
      },
      {
        what: 'a NATS client key of another certificate',
        argv: [`--nats.tls-cert=${cert}`, `--nats.tls-key=${other.keyFile}`],
        flag: '--nats.tls-key',
        reason: /is not the private key of the certificate in --nats\.tls-cert \(NATS_TLS_CERT\)/,
      },
      {
        what: 'a web certificate that is not PEM',
        argv: [`--web.tls-cert=${files.file('web.txt', 'test\n')}`, `--web.tls-key=${key}`],
        flag: '--web.tls-cert',
        reason: /is not a PEM certificate file/,
      },
      {
        what: 'a web key that is not PEM',
        argv: [`--web.tls-cert=${cert}`, `--web.tls-key=${files.file('web-key.txt', 'test\n')}`],
        flag: '--web.tls-key',
        reason: /is not a PEM private key file/,
      },
      {
        what: 'a web key of another certificate',
        argv: [`--web.tls-cert=${other.certFile}`, `--web.tls-key=${key}`],
        flag: '--web.tls-key',
        reason: /is not the private key of the certificate in --web\.tls-cert \(WEB_TLS_CERT\)/,
      },
    ];
    for (const c of cases) {
      it(`refuses ${c.what}, naming ${c.flag}`, () => {
        const err = settingsErrorOf(c.argv);
        assert.equal(err.code, 'INVALID_SETTING');
        assert.equal(err.flag, c.flag);
        assert.match(err.message, c.reason);
        assert.ok(err.message.startsWith(`invalid ${c.flag} (`), err.message);
      });
    }

    it('never quotes the contents of a creds file', () => {
      const err = settingsErrorOf([
        `--nats.creds=${files.file('secret.creds', credsText(jwt, `SX${'Q'.repeat(56)}`))}`,
      ]);
      assert.ok(!err.message.includes('QQQQ'), err.message);
      assert.ok(!err.message.includes(jwt), err.message);
    });

    it('accepts a creds file as nsc writes it, and a key that matches its certificate', () => {
      assert.equal(settingsOf([`--nats.creds=${files.creds('ok.creds')}`]).nats.auth.kind, 'creds');
      assert.deepEqual(
        settingsOf([`--nats.tls-cert=${other.certFile}`, `--nats.tls-key=${other.keyFile}`]).nats
          .tls,
        { caFile: undefined, certFile: other.certFile, keyFile: other.keyFile },
      );
    });
  });
});

describe('setting errors and URL credentials', () => {
  it('never repeat a password given in a NATS URL', () => {
    for (const url of ['nats://u:s3cret@127.0.0.1:99999', 'http://u:s3cret@127.0.0.1:4222']) {
      assert.throws(
        () => parseSettings([`--nats.url=${url}`], {}),
        (e: unknown) => e instanceof SettingsError && !e.message.includes('s3cret'),
        url,
      );
    }
  });
});

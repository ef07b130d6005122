import assert from 'node:assert/strict';

import sinon from 'sinon';

import { parseSettings } from '../../src/config/parse-settings.js';
import {
  envVarOf,
  SETTING_DEFINITIONS,
  type SettingName,
} from '../../src/config/setting-definitions.js';
import type { Settings } from '../../src/config/settings.js';
import { settingsErrorOf, settingsOf, TempFiles } from './fixtures.js';

const DEFAULTS: Settings = {
  nats: {
    servers: ['nats://127.0.0.1:4222'],
    name: 'chanfitness-exporter',
    subjectPrefix: 'lnd',
    nodes: [],
    maxNodes: 100,
    jetstream: undefined,
    bootstrapTimeoutMs: 5000,
    auth: { kind: 'none' },
    tls: undefined,
  },
  store: {
    backend: 'sqlite',
    url: 'sqlite://./data/chanfitness.sqlite',
    path: './data/chanfitness.sqlite',
    timeoutMs: 5000,
  },
  history: {
    enabled: true,
    snapshotIntervalMs: 60_000,
    retentionMs: 90 * 86_400_000,
    pendingLimit: 1_000_000,
  },
  observer: { timeoutMs: 60_000, settleMs: 120_000 },
  metrics: {
    windows: [
      { label: '1d', durationMs: 86_400_000 },
      { label: '7d', durationMs: 7 * 86_400_000 },
      { label: '30d', durationMs: 30 * 86_400_000 },
    ],
  },
  flap: { flushIntervalMs: 3_600_000 },
  web: {
    listen: { address: '127.0.0.1:9766', host: '127.0.0.1', port: 9766 },
    tls: undefined,
    auth: { kind: 'none' },
    corsOrigins: undefined,
    headerTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
  },
  graphql: {
    maxDepth: 10,
    maxCost: 100000,
    maxAliases: 1000,
    maxSubscriptions: 100,
    introspection: true,
    graphiql: true,
  },
  log: { level: 'info', format: 'auto' },
};

/**
 * One setting given a valid non-default value (and another one, to lose against it),
 * with the flags its value needs alongside, and where the value lands.
 */
interface SettingCase {
  readonly name: SettingName;
  readonly value: string;
  readonly expected: unknown;
  readonly other: string;
  readonly otherExpected: unknown;
  readonly along?: readonly string[];
  readonly read: (settings: Settings) => unknown;
}

describe('parseSettings', () => {
  const files = new TempFiles();
  const creds = files.creds('user.creds');
  const credsOther = files.creds('other.creds');
  const { certFile: cert, keyFile: key } = files.certificateAndKey('cert.pem', 'key.pem');
  const ca = files.copy(cert, 'ca.pem');
  const caOther = files.copy(cert, 'ca-other.pem');
  // Other paths to the same certificate and key: each pair still matches.
  const certOther = files.copy(cert, 'cert-other.pem');
  const keyOther = files.copy(key, 'key-other.pem');
  after(() => {
    files.remove();
  });

  const jetstream = (settings: Settings) => settings.nats.jetstream;
  const cases: SettingCase[] = [
    {
      name: 'nats.url',
      value: 'nats://a.example:4222, tls://[::1]:4443',
      expected: ['nats://a.example:4222', 'tls://[::1]:4443'],
      other: 'nats://other:4222',
      otherExpected: ['nats://other:4222'],
      read: (s) => s.nats.servers,
    },
    {
      name: 'nats.name',
      value: 'exporter-1',
      expected: 'exporter-1',
      other: 'exporter-2',
      otherExpected: 'exporter-2',
      read: (s) => s.nats.name,
    },
    {
      name: 'nats.subject-prefix',
      value: 'prod.lnd',
      expected: 'prod.lnd',
      other: 'test',
      otherExpected: 'test',
      read: (s) => s.nats.subjectPrefix,
    },
    {
      name: 'nats.nodes',
      value: 'alice, bob,alice',
      expected: ['alice', 'bob'],
      other: 'carol',
      otherExpected: ['carol'],
      read: (s) => s.nats.nodes,
    },
    {
      name: 'nats.max-nodes',
      value: '5',
      expected: 5,
      other: '1',
      otherExpected: 1,
      read: (s) => s.nats.maxNodes,
    },
    {
      name: 'nats.stream',
      value: 'LND',
      expected: 'LND',
      other: 'OTHER',
      otherExpected: 'OTHER',
      read: (s) => jetstream(s)?.stream,
    },
    {
      name: 'nats.durable',
      value: 'exporter-a',
      expected: 'exporter-a',
      other: 'exporter-b',
      otherExpected: 'exporter-b',
      along: ['--nats.stream=LND'],
      read: (s) => jetstream(s)?.durable,
    },
    {
      name: 'nats.create-stream',
      value: 'true',
      expected: true,
      other: 'false',
      otherExpected: false,
      along: ['--nats.stream=LND'],
      read: (s) => jetstream(s)?.createStream,
    },
    {
      name: 'nats.stream-max-age',
      value: '2d',
      expected: 2 * 86_400_000,
      other: '36h',
      otherExpected: 36 * 3_600_000,
      along: ['--nats.stream=LND'],
      read: (s) => jetstream(s)?.streamMaxAgeMs,
    },
    {
      name: 'nats.max-in-flight',
      value: '50',
      expected: 50,
      other: '60',
      otherExpected: 60,
      along: ['--nats.stream=LND'],
      read: (s) => jetstream(s)?.maxInFlight,
    },
    {
      name: 'nats.bootstrap-timeout',
      value: '250ms',
      expected: 250,
      other: '1m',
      otherExpected: 60_000,
      read: (s) => s.nats.bootstrapTimeoutMs,
    },
    {
      name: 'nats.creds',
      value: creds,
      expected: { kind: 'creds', credsFile: creds },
      other: credsOther,
      otherExpected: { kind: 'creds', credsFile: credsOther },
      read: (s) => s.nats.auth,
    },
    {
      name: 'nats.user',
      value: 'alice',
      expected: { kind: 'user-password', user: 'alice', password: 'pw' },
      other: 'bob',
      otherExpected: { kind: 'user-password', user: 'bob', password: 'pw' },
      along: ['--nats.password=pw'],
      read: (s) => s.nats.auth,
    },
    {
      name: 'nats.password',
      value: 'secret 1',
      expected: { kind: 'user-password', user: 'alice', password: 'secret 1' },
      other: 'secret 2',
      otherExpected: { kind: 'user-password', user: 'alice', password: 'secret 2' },
      along: ['--nats.user=alice'],
      read: (s) => s.nats.auth,
    },
    {
      name: 'nats.token',
      value: 'tok-1',
      expected: { kind: 'token', token: 'tok-1' },
      other: 'tok-2',
      otherExpected: { kind: 'token', token: 'tok-2' },
      read: (s) => s.nats.auth,
    },
    {
      name: 'nats.tls',
      value: 'true',
      expected: { caFile: undefined, certFile: undefined, keyFile: undefined },
      other: 'false',
      otherExpected: undefined,
      read: (s) => s.nats.tls,
    },
    {
      name: 'nats.tls-ca',
      value: ca,
      expected: ca,
      other: caOther,
      otherExpected: caOther,
      read: (s) => s.nats.tls?.caFile,
    },
    {
      name: 'nats.tls-cert',
      value: cert,
      expected: { caFile: undefined, certFile: cert, keyFile: key },
      other: certOther,
      otherExpected: { caFile: undefined, certFile: certOther, keyFile: key },
      along: [`--nats.tls-key=${key}`],
      read: (s) => s.nats.tls,
    },
    {
      name: 'nats.tls-key',
      value: key,
      expected: key,
      other: keyOther,
      otherExpected: keyOther,
      along: [`--nats.tls-cert=${cert}`],
      read: (s) => s.nats.tls?.keyFile,
    },
    {
      name: 'store.url',
      value: 'redis://localhost:6379/1',
      expected: { backend: 'redis', url: 'redis://localhost:6379/1' },
      other: 'postgres://postgres@127.0.0.1:5432/test',
      otherExpected: { backend: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/test' },
      read: ({ store }) => ({ backend: store.backend, url: store.url }),
    },
    {
      name: 'store.timeout',
      value: '2s',
      expected: 2000,
      other: '1500ms',
      otherExpected: 1500,
      read: (s) => s.store.timeoutMs,
    },
    {
      name: 'flap.flush-interval',
      value: '90s',
      expected: 90_000,
      other: '1h30m',
      otherExpected: 5_400_000,
      read: (s) => s.flap.flushIntervalMs,
    },
    {
      name: 'history',
      value: 'false',
      expected: false,
      other: 'true',
      otherExpected: true,
      read: (s) => s.history.enabled,
    },
    {
      name: 'history.snapshot-interval',
      value: '30s',
      expected: 30_000,
      other: '5m',
      otherExpected: 300_000,
      read: (s) => (s.history.enabled ? s.history.snapshotIntervalMs : undefined),
    },
    {
      name: 'history.retention',
      value: '0',
      expected: 0,
      other: '30d',
      otherExpected: 30 * 86_400_000,
      read: (s) => (s.history.enabled ? s.history.retentionMs : undefined),
    },
    {
      name: 'observer.timeout',
      value: '30s',
      expected: 30_000,
      other: '5m',
      otherExpected: 300_000,
      read: (s) => s.observer.timeoutMs,
    },
    {
      name: 'observer.settle',
      value: '0',
      expected: 0,
      other: '90s',
      otherExpected: 90_000,
      read: (s) => s.observer.settleMs,
    },
    {
      name: 'history.pending-limit',
      value: '10',
      expected: 10,
      other: '0',
      otherExpected: 0,
      read: (s) => (s.history.enabled ? s.history.pendingLimit : undefined),
    },
    {
      name: 'metrics.windows',
      value: '12h,90m',
      expected: [
        { label: '12h', durationMs: 43_200_000 },
        { label: '1h30m', durationMs: 5_400_000 },
      ],
      other: '2w',
      otherExpected: [{ label: '14d', durationMs: 14 * 86_400_000 }],
      read: (s) => s.metrics.windows,
    },
    {
      name: 'web.listen-address',
      value: '[::1]:9000',
      expected: { address: '[::1]:9000', host: '::1', port: 9000 },
      other: ':9100',
      otherExpected: { address: ':9100', host: undefined, port: 9100 },
      read: (s) => s.web.listen,
    },
    {
      name: 'web.tls-cert',
      value: cert,
      expected: { certFile: cert, keyFile: key },
      other: certOther,
      otherExpected: { certFile: certOther, keyFile: key },
      along: [`--web.tls-key=${key}`],
      read: (s) => s.web.tls,
    },
    {
      name: 'web.tls-key',
      value: key,
      expected: { certFile: cert, keyFile: key },
      other: keyOther,
      otherExpected: { certFile: cert, keyFile: keyOther },
      along: [`--web.tls-cert=${cert}`],
      read: (s) => s.web.tls,
    },
    {
      name: 'web.basic-auth-user',
      value: 'grafana',
      expected: { kind: 'basic', user: 'grafana', password: 'pw' },
      other: 'prometheus',
      otherExpected: { kind: 'basic', user: 'prometheus', password: 'pw' },
      along: ['--web.basic-auth-password=pw'],
      read: (s) => s.web.auth,
    },
    {
      name: 'web.basic-auth-password',
      value: 'pw-1',
      expected: { kind: 'basic', user: 'grafana', password: 'pw-1' },
      other: 'pw-2',
      otherExpected: { kind: 'basic', user: 'grafana', password: 'pw-2' },
      along: ['--web.basic-auth-user=grafana'],
      read: (s) => s.web.auth,
    },
    {
      name: 'web.bearer-token',
      value: 'bearer-1',
      expected: { kind: 'bearer', token: 'bearer-1' },
      other: 'bearer-2',
      otherExpected: { kind: 'bearer', token: 'bearer-2' },
      read: (s) => s.web.auth,
    },
    {
      name: 'web.cors-origin',
      value: 'https://Grafana.example.com/, http://localhost:3000',
      expected: ['https://grafana.example.com', 'http://localhost:3000'],
      other: '*',
      otherExpected: ['*'],
      read: (s) => s.web.corsOrigins,
    },
    {
      name: 'web.header-timeout',
      value: '2s',
      expected: 2000,
      other: '1m',
      otherExpected: 60_000,
      along: ['--web.request-timeout=1m'],
      read: (s) => s.web.headerTimeoutMs,
    },
    {
      name: 'web.request-timeout',
      value: '45s',
      expected: 45_000,
      other: '10s',
      otherExpected: 10_000,
      read: (s) => s.web.requestTimeoutMs,
    },
    {
      name: 'graphql.max-depth',
      value: '5',
      expected: 5,
      other: '6',
      otherExpected: 6,
      read: (s) => s.graphql.maxDepth,
    },
    {
      name: 'graphql.max-cost',
      value: '100',
      expected: 100,
      other: '200',
      otherExpected: 200,
      read: (s) => s.graphql.maxCost,
    },
    {
      name: 'graphql.max-aliases',
      value: '3',
      expected: 3,
      other: '4',
      otherExpected: 4,
      read: (s) => s.graphql.maxAliases,
    },
    {
      name: 'graphql.max-subscriptions',
      value: '5',
      expected: 5,
      other: '7',
      otherExpected: 7,
      read: (s) => s.graphql.maxSubscriptions,
    },
    {
      name: 'graphql.introspection',
      value: 'false',
      expected: false,
      other: 'true',
      otherExpected: true,
      read: (s) => s.graphql.introspection,
    },
    {
      name: 'graphql.graphiql',
      value: 'no',
      expected: false,
      other: 'yes',
      otherExpected: true,
      read: (s) => s.graphql.graphiql,
    },
    {
      name: 'log.level',
      value: 'debug',
      expected: 'debug',
      other: 'warn',
      otherExpected: 'warn',
      read: (s) => s.log.level,
    },
    {
      name: 'log.format',
      value: 'json',
      expected: 'json',
      other: 'pretty',
      otherExpected: 'pretty',
      read: (s) => s.log.format,
    },
  ];

  it('has a case for every setting', () => {
    assert.deepEqual(
      cases.map((c) => c.name).sort(),
      SETTING_DEFINITIONS.map((d) => d.name).sort(),
    );
  });

  it('defaults every setting', () => {
    assert.deepEqual(settingsOf([]), DEFAULTS);
  });

  it('ignores process.env: only the env argument counts', () => {
    const saved = process.env.NATS_URL;
    process.env.NATS_URL = 'not a url';
    try {
      assert.deepEqual(settingsOf([], {}), DEFAULTS);
    } finally {
      if (saved === undefined) delete process.env.NATS_URL;
      else process.env.NATS_URL = saved;
    }
  });

  it('prints nothing, whatever the outcome', () => {
    const stdout = sinon.stub(process.stdout, 'write');
    const stderr = sinon.stub(process.stderr, 'write');
    try {
      parseSettings(['--help'], {});
      parseSettings(['--version'], {});
      assert.throws(() => parseSettings(['--bogus'], {}));
      assert.throws(() => parseSettings(['--flap.flush-interval=abc'], {}));
    } finally {
      stdout.restore();
      stderr.restore();
    }
    assert.equal(stdout.callCount, 0);
    assert.equal(stderr.callCount, 0);
  });

  for (const c of cases) {
    const flag = `--${c.name}`;
    const envVar = envVarOf(c.name);
    const along = c.along ?? [];
    describe(flag, () => {
      it(`takes --flag=value`, () => {
        assert.deepEqual(c.read(settingsOf([...along, `${flag}=${c.value}`])), c.expected);
      });
      it(`takes --flag value`, () => {
        assert.deepEqual(c.read(settingsOf([...along, flag, c.value])), c.expected);
      });
      it(`takes ${envVar}`, () => {
        assert.deepEqual(c.read(settingsOf(along, { [envVar]: c.value })), c.expected);
        assert.deepEqual(c.read(settingsOf(along, { [envVar]: c.other })), c.otherExpected);
      });
      it(`wins over ${envVar}`, () => {
        const env = { [envVar]: c.other };
        assert.deepEqual(c.read(settingsOf([...along, `${flag}=${c.value}`], env)), c.expected);
        assert.deepEqual(
          c.read(settingsOf([...along, `${flag}=${c.other}`], { [envVar]: c.value })),
          c.otherExpected,
        );
      });
    });
  }

  it('takes the last of a repeated flag', () => {
    assert.equal(settingsOf(['--log.level=warn', '--log.level=debug']).log.level, 'debug');
  });

  it('treats an empty variable as unset', () => {
    assert.deepEqual(settingsOf([], { NATS_URL: '', NATS_STREAM: '', LOG_LEVEL: '' }), DEFAULTS);
  });

  it('unsets an optional setting with an empty flag, even over its variable', () => {
    const env = { NATS_STREAM: 'LND', NATS_NODES: 'alice' };
    assert.equal(settingsOf([], env).nats.jetstream?.stream, 'LND');
    const settings = settingsOf(['--nats.stream=', '--nats.nodes= '], env);
    assert.equal(settings.nats.jetstream, undefined);
    assert.deepEqual(settings.nats.nodes, []);
  });

  it('takes as many nodes in --nats.nodes as --nats.max-nodes allows', () => {
    const settings = settingsOf(['--nats.nodes=a,b', '--nats.max-nodes=2']);
    assert.deepEqual(settings.nats.nodes, ['a', 'b']);
    assert.equal(settings.nats.maxNodes, 2);
  });

  it('returns deeply frozen settings', () => {
    const settings = settingsOf(['--nats.nodes=a,b', '--nats.stream=S']);
    assert.ok(Object.isFrozen(settings));
    assert.ok(Object.isFrozen(settings.nats));
    assert.ok(Object.isFrozen(settings.nats.nodes));
    assert.ok(Object.isFrozen(settings.nats.jetstream));
    assert.ok(Object.isFrozen(settings.web.listen));
    assert.throws(() => (settings.nats.nodes as string[]).push('c'), TypeError);
  });

  it('gives each call its own result (a fresh command each time)', () => {
    assert.equal(settingsOf(['--log.level=debug']).log.level, 'debug');
    assert.equal(settingsOf([]).log.level, 'info');
  });

  describe('JetStream', () => {
    it('is off without --nats.stream, whatever the other JetStream settings', () => {
      assert.equal(
        settingsOf(['--nats.durable=x', '--nats.max-in-flight=5']).nats.jetstream,
        undefined,
      );
    });

    it('has its defaults with only --nats.stream', () => {
      assert.deepEqual(settingsOf(['--nats.stream=LND']).nats.jetstream, {
        stream: 'LND',
        durable: 'chanfitness-exporter',
        createStream: false,
        streamMaxAgeMs: 7 * 86_400_000,
        maxInFlight: 10000,
      });
    });
  });

  describe('NATS TLS', () => {
    it('is required by a tls:// server even without --nats.tls', () => {
      assert.deepEqual(settingsOf(['--nats.url=tls://n:4443']).nats.tls, {
        caFile: undefined,
        certFile: undefined,
        keyFile: undefined,
      });
    });

    it('is required by a CA file', () => {
      assert.equal(settingsOf([`--nats.tls-ca=${ca}`]).nats.tls?.caFile, ca);
    });
  });

  describe('booleans', () => {
    for (const [text, expected] of [
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['yes', true],
      ['Yes', true],
      ['false', false],
      ['False', false],
      ['0', false],
      ['no', false],
      ['NO', false],
    ] as const) {
      it(`reads "${text}" from the environment and a flag as ${expected}`, () => {
        assert.equal(settingsOf([], { NATS_TLS: text }).nats.tls !== undefined, expected);
        assert.equal(settingsOf([`--nats.tls=${text}`]).nats.tls !== undefined, expected);
      });
    }

    for (const text of ['on', 'off', 'y', 'n', '2', 'truthy', ' ']) {
      it(`rejects "${text}"`, () => {
        for (const err of [
          settingsErrorOf([], { GRAPHQL_GRAPHIQL: text }),
          settingsErrorOf([`--graphql.graphiql=${text}`]),
        ]) {
          assert.equal(err.flag, '--graphql.graphiql');
          assert.match(err.message, /is not a boolean/);
        }
      });
    }

    it('is true for a bare flag, over its variable', () => {
      assert.equal(
        settingsOf(['--graphql.introspection'], { GRAPHQL_INTROSPECTION: 'false' }).graphql
          .introspection,
        true,
      );
      assert.ok(settingsOf(['--nats.tls', '--log.level=debug']).nats.tls !== undefined);
    });

    it('takes a separate value after the flag', () => {
      assert.equal(settingsOf(['--graphql.introspection', 'false']).graphql.introspection, false);
    });

    it('is false with --no-<name>, over its variable', () => {
      const env = { GRAPHQL_INTROSPECTION: 'true', GRAPHQL_GRAPHIQL: '1', NATS_TLS: 'yes' };
      const settings = settingsOf(
        ['--no-graphql.introspection', '--no-graphql.graphiql', '--no-nats.tls'],
        env,
      );
      assert.equal(settings.graphql.introspection, false);
      assert.equal(settings.graphql.graphiql, false);
      assert.equal(settings.nats.tls, undefined);
    });

    it('takes the last of --x and --no-x', () => {
      assert.equal(
        settingsOf(['--no-graphql.graphiql', '--graphql.graphiql']).graphql.graphiql,
        true,
      );
      assert.equal(
        settingsOf(['--graphql.graphiql', '--no-graphql.graphiql']).graphql.graphiql,
        false,
      );
    });
  });
});

describe('GraphQL limit defaults', () => {
  it('are the GraphQL server defaults: one set of numbers', async () => {
    const { DEFAULT_GRAPHQL_LIMITS } = await import('../../src/graphql/limits.js');
    const result = parseSettings([], {});
    assert.ok(result.kind === 'settings');
    const { maxDepth, maxCost, maxAliases } = result.settings.graphql;
    assert.deepEqual(
      { maxDepth, maxCost, maxAliases },
      {
        maxDepth: DEFAULT_GRAPHQL_LIMITS.maxDepth,
        maxCost: DEFAULT_GRAPHQL_LIMITS.maxCost,
        maxAliases: DEFAULT_GRAPHQL_LIMITS.maxAliases,
      },
    );
    const { DEFAULT_MAX_SUBSCRIPTIONS } = await import('../../src/graphql/event-hub.js');
    assert.equal(result.settings.graphql.maxSubscriptions, DEFAULT_MAX_SUBSCRIPTIONS);
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSettings } from '../../src/config/parse-settings.js';
import type { Settings } from '../../src/config/settings.js';
import { isLoopback } from '../../src/http/listen-address.js';
import { ExporterProcess } from '../support/exporter-process.js';
import { PrivateNatsServer } from '../support/nats-server.js';
import { makeTestPki, type TestPki } from '../support/pki.js';
import { BOOT_HOOK_TIMEOUT_MS, privatePrefix, startExporters } from './support/exporters.js';
import { postGraphQL } from './support/graphql-client.js';
import { httpsRequest } from './support/probe.js';

const secret = (label: string): string => `${label}-${randomBytes(8).toString('hex')}`;
const basicHeader = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const NODES_QUERY = JSON.stringify({ query: '{ nodes { id } }' });
const INTROSPECTION = '{ __schema { queryType { name } } }';
const GRAFANA_ORIGIN = 'https://grafana.example.com';
const OTHER_ORIGIN = 'https://evil.example.net';

function settingsOf(argv: string[], env: NodeJS.ProcessEnv = {}): Settings {
  const result = parseSettings(argv, env);
  assert.equal(result.kind, 'settings');
  return result.settings;
}

describe('access: HTTP authentication, TLS, introspection, CORS, GraphQL limits (real exporter)', function () {
  // The exporters boot together (a few seconds of CPU each); the tests then share them.
  this.timeout(30_000);
  const basicUser = 'prometheus';
  const basicPassword = secret('webPw');
  const bearerToken = secret('webToken');
  let nats: PrivateNatsServer;
  let dir: string | undefined;
  let pki: TestPki;
  let ca: Buffer;
  const exporters: ExporterProcess[] = [];
  /** Basic auth. */
  let basic: ExporterProcess;
  /** Bearer token, over HTTPS. */
  let bearerTls: ExporterProcess;
  /** Introspection off, CORS on for one origin. */
  let locked: ExporterProcess;
  /** Defaults: no auth, no CORS, introspection on, default GraphQL limits. */
  let plain: ExporterProcess;

  before(async function () {
    this.timeout(BOOT_HOOK_TIMEOUT_MS);
    const tmp = mkdtempSync(join(tmpdir(), 'chanfitness-web-'));
    dir = tmp;
    pki = makeTestPki(tmp);
    ca = readFileSync(pki.caFile);
    nats = await PrivateNatsServer.start([], { jetstream: false });
    const common = [
      `--nats.url=${nats.url}`,
      `--nats.subject-prefix=${privatePrefix()}`,
      '--store.url=sqlite://:memory:',
    ];
    const started = await startExporters(
      [
        [`--web.basic-auth-user=${basicUser}`, `--web.basic-auth-password=${basicPassword}`],
        [
          `--web.bearer-token=${bearerToken}`,
          `--web.tls-cert=${pki.serverCertFile}`,
          `--web.tls-key=${pki.serverKeyFile}`,
        ],
        ['--no-graphql.introspection', `--web.cors-origin=${GRAFANA_ORIGIN}`],
        [],
      ].map((args) => ({ args: [...common, ...args] })),
    );
    exporters.push(...started);
    [basic, bearerTls, locked, plain] = started as [
      ExporterProcess,
      ExporterProcess,
      ExporterProcess,
      ExporterProcess,
    ];
  });
  after(async () => {
    await Promise.all(exporters.map((exporter) => exporter.dispose()));
    await (nats as PrivateNatsServer | undefined)?.dispose();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  describe('basic authentication', () => {
    // Access / HTTP: basic auth protects /metrics.
    it('answers /metrics 401 with a Basic challenge without or with wrong credentials, 200 with them', async () => {
      const none = await fetch(`${basic.url}/metrics`);
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Basic realm=/);
      const wrong = await fetch(`${basic.url}/metrics`, {
        headers: { Authorization: basicHeader(basicUser, 'not-the-password') },
      });
      assert.equal(wrong.status, 401);
      const wrongUser = await fetch(`${basic.url}/metrics`, {
        headers: { Authorization: basicHeader('someone', basicPassword) },
      });
      assert.equal(wrongUser.status, 401);
      const right = await fetch(`${basic.url}/metrics`, {
        headers: { Authorization: basicHeader(basicUser, basicPassword) },
      });
      assert.equal(right.status, 200);
      assert.match(await right.text(), /^chanfitness_nats_connected 1$/m);
    });

    // Access / HTTP: basic auth protects /graphql.
    it('answers /graphql 401 without credentials, the query with them', async () => {
      const none = await fetch(`${basic.url}/graphql`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: NODES_QUERY,
      });
      assert.equal(none.status, 401);
      const bearer = await fetch(`${basic.url}/graphql`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${basicPassword}` },
        body: NODES_QUERY,
      });
      assert.equal(bearer.status, 401, 'another scheme carrying the password is no way in');
      const right = await postGraphQL(basic.url, '{ nodes { id } }', {
        Authorization: basicHeader(basicUser, basicPassword),
      });
      assert.equal(right.status, 200);
      assert.deepEqual(right.data, { nodes: [] });
    });

    // Access / HTTP: /healthz and /readyz stay open.
    it('leaves /healthz and /readyz open', async () => {
      assert.equal((await fetch(`${basic.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${basic.url}/readyz`)).status, 200);
    });
  });

  describe('bearer token over HTTPS', () => {
    // Access / HTTP: optional TLS (--web.tls-cert, --web.tls-key) with a certificate made by the test.
    it('serves HTTPS with the given certificate: trusted with the test CA, refused without it', async () => {
      assert.match(bearerTls.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const health = await httpsRequest(`${bearerTls.url}/healthz`, ca);
      assert.equal(health.status, 200);
      assert.equal(health.body, 'ok\n');
      // Not trusted by default: the certificate really is the test CA's, not a built-in one.
      await assert.rejects(fetch(`${bearerTls.url}/healthz`));
      // Plain HTTP on the HTTPS port gets no answer.
      await assert.rejects(fetch(`${bearerTls.url.replace('https:', 'http:')}/healthz`));
    });

    // Access / HTTP: bearer token protects /metrics and /graphql; /healthz and /readyz stay open.
    it('answers /metrics and /graphql 401 without or with a wrong token, 200 with it', async () => {
      for (const path of ['/metrics', '/graphql?query=%7Bnodes%7Bid%7D%7D']) {
        const none = await httpsRequest(`${bearerTls.url}${path}`, ca);
        assert.equal(none.status, 401, path);
        assert.match(String(none.headers['www-authenticate']), /^Bearer realm=/);
        const wrong = await httpsRequest(`${bearerTls.url}${path}`, ca, {
          headers: { Authorization: `Bearer ${bearerToken}x` },
        });
        assert.equal(wrong.status, 401, path);
        assert.match(String(wrong.headers['www-authenticate']), /error="invalid_token"/);
        const right = await httpsRequest(`${bearerTls.url}${path}`, ca, {
          headers: { Authorization: `Bearer ${bearerToken}`, Accept: 'application/json' },
        });
        assert.equal(right.status, 200, path);
      }
      const graphql = await httpsRequest(`${bearerTls.url}/graphql`, ca, {
        method: 'POST',
        headers: { Authorization: `Bearer ${bearerToken}`, 'Content-Type': 'application/json' },
        body: NODES_QUERY,
      });
      assert.deepEqual(JSON.parse(graphql.body), { data: { nodes: [] } });
      assert.equal((await httpsRequest(`${bearerTls.url}/healthz`, ca)).status, 200);
      assert.equal((await httpsRequest(`${bearerTls.url}/readyz`, ca)).status, 200);
    });
  });

  describe('introspection', () => {
    // Access / HTTP: introspection can be turned off (--no-graphql.introspection).
    it('refuses __schema when turned off, and answers it by default', async () => {
      const refused = await postGraphQL(locked.url, INTROSPECTION);
      assert.equal(refused.data, undefined);
      assert.match(refused.errors[0]?.message ?? '', /introspection/i);
      const type = await postGraphQL(locked.url, '{ __type(name: "Channel") { name } }');
      assert.match(type.errors[0]?.message ?? '', /introspection/i);
      // Queries themselves still work.
      const query = await postGraphQL(locked.url, '{ __typename nodes { id } }');
      assert.deepEqual(query.data, { __typename: 'Query', nodes: [] });

      const allowed = await postGraphQL(plain.url, INTROSPECTION);
      assert.deepEqual(allowed.data, { __schema: { queryType: { name: 'Query' } } });
    });

    // Access / HTTP: both spellings (and the variable) turn introspection off.
    it('is off with --graphql.introspection=false, --no-graphql.introspection and GRAPHQL_INTROSPECTION=false', () => {
      assert.equal(settingsOf([]).graphql.introspection, true);
      assert.equal(settingsOf(['--graphql.introspection=false']).graphql.introspection, false);
      assert.equal(settingsOf(['--no-graphql.introspection']).graphql.introspection, false);
      assert.equal(settingsOf([], { GRAPHQL_INTROSPECTION: 'false' }).graphql.introspection, false);
    });
  });

  describe('CORS', () => {
    const preflight = (url: string, origin: string) =>
      fetch(`${url}/graphql`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'content-type',
        },
      });

    // Access / HTTP: CORS off by default.
    it('is off by default: no Access-Control-Allow-Origin on a cross-origin request or preflight', async () => {
      const answer = await postGraphQL(plain.url, '{ nodes { id } }', { Origin: GRAFANA_ORIGIN });
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('access-control-allow-origin'), null);
      const pre = await preflight(plain.url, GRAFANA_ORIGIN);
      assert.equal(pre.headers.get('access-control-allow-origin'), null);
      const metrics = await fetch(`${plain.url}/metrics`, { headers: { Origin: GRAFANA_ORIGIN } });
      assert.equal(metrics.headers.get('access-control-allow-origin'), null);
    });

    // Access / HTTP: CORS on with --web.cors-origin, for that origin only.
    it('allows the configured origin with --web.cors-origin, and no other', async () => {
      const answer = await postGraphQL(locked.url, '{ nodes { id } }', { Origin: GRAFANA_ORIGIN });
      assert.equal(answer.headers.get('access-control-allow-origin'), GRAFANA_ORIGIN);
      const pre = await preflight(locked.url, GRAFANA_ORIGIN);
      assert.ok(pre.status >= 200 && pre.status < 300, `preflight answered ${pre.status}`);
      assert.equal(pre.headers.get('access-control-allow-origin'), GRAFANA_ORIGIN);
      assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
      // Another origin is never named: its browser refuses to hand over the answer.
      const other = await postGraphQL(locked.url, '{ nodes { id } }', { Origin: OTHER_ORIGIN });
      assert.notEqual(other.headers.get('access-control-allow-origin'), OTHER_ORIGIN);
      assert.notEqual(other.headers.get('access-control-allow-origin'), '*');
    });
  });

  describe('listen address', () => {
    // Access / HTTP: nothing listens beyond loopback by default.
    it('defaults to 127.0.0.1:9766 (settings and --help), and binds loopback', () => {
      const { listen } = settingsOf([]).web;
      assert.deepEqual({ host: listen.host, port: listen.port }, { host: '127.0.0.1', port: 9766 });
      // The text main.ts prints for --help.
      const help = parseSettings(['--help'], {});
      if (help.kind !== 'help') assert.fail('--help must give the help text');
      const option = /^ {2}--web\.listen-address\b[\s\S]*?(?=^ {2}--)/m.exec(help.text)?.[0] ?? '';
      assert.match(option.replace(/\s+/g, ' '), /default: 127\.0\.0\.1:9766\b/);
      for (const exporter of [basic, bearerTls, locked, plain]) {
        const host = new URL(exporter.url).hostname;
        assert.ok(isLoopback(host), `${exporter.url} is not loopback`);
      }
    });
  });

  describe('GraphQL depth, cost and alias limits (the defaults of the settings)', () => {
    // What the `plain` exporter runs with: no --graphql.* flag given.
    const limits = settingsOf([]).graphql;
    /**
     * `channels { nodes { peer { channels { … peer { pubkey } } } } }` with `levels`
     * peer-channels pairs in between: depth 4 + 2 * levels (leaf fields count).
     */
    const nested = (levels: number): string => {
      let inner = 'peer { pubkey }';
      for (let i = 0; i < levels; i += 1) inner = `peer { channels { ${inner} } }`;
      return `{ channels { nodes { ${inner} } } }`;
    };
    const depthOf = (levels: number): number => 4 + 2 * levels;
    /** The most levels within the depth limit. */
    const deepestAllowed = Math.floor((limits.maxDepth - 4) / 2);
    const refusal = async (query: string) => {
      const answer = await postGraphQL(plain.url, query);
      assert.equal(answer.data, undefined);
      assert.equal(answer.errors[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
      return answer.errors.map((error) => error.message).join('\n');
    };

    // Access / HTTP: limits — a normal query passes (GraphiQL's own default query).
    it('answers a normal query, and one as deep as the limit allows', async () => {
      const answer = await postGraphQL(
        plain.url,
        `{ channels(first: 20) { totalCount
             nodes { node channelPoint lifetimeSeconds uptimeRatio peer { pubkey online flapCount lastFlap } }
             pageInfo { endCursor hasNextPage } } }`,
      );
      assert.deepEqual(answer.errors, []);
      assert.deepEqual(answer.data, {
        channels: { totalCount: 0, nodes: [], pageInfo: { endCursor: null, hasNextPage: false } },
      });
      assert.ok(depthOf(deepestAllowed) <= limits.maxDepth && depthOf(deepestAllowed) >= 6);
      const deepest = await postGraphQL(plain.url, nested(deepestAllowed));
      assert.deepEqual(deepest.errors, []);
      assert.deepEqual(deepest.data, { channels: { nodes: [] } });
    });

    // Access / HTTP: depth limit, with deep queries (peer/channels nesting).
    it('refuses a deep query with a clear depth error', async () => {
      for (const levels of [deepestAllowed + 1, 20]) {
        const expected = new RegExp(
          `depth limit of ${limits.maxDepth} exceeded, found ${depthOf(levels)}\\b`,
          'i',
        );
        assert.match(await refusal(nested(levels)), expected);
      }
    });

    // Access / HTTP: cost limit, with a wide query (the largest `first` and every field,
    // twice nested): about 175 000 by graphql-armor's estimate.
    it('refuses a wide query with a clear cost error', async () => {
      const channelFields =
        'node channelPoint openedAt lifetimeSeconds uptimeSeconds uptimeRatio ' +
        'onlinePeriods { start end } ' +
        'uptime(from: "2020-01-01T00:00:00Z") { from to uptimeSeconds ratio }';
      const peerFields = `node pubkey tracked online flapCount lastFlap channels { ${channelFields} }`;
      const message = await refusal(
        `{ channels(first: 1000) { nodes { ${channelFields} peer { ${peerFields} } } } }`,
      );
      const found = /cost limit of (\d+) exceeded, found (\d+(?:\.\d+)?)/i.exec(message);
      assert.ok(found, message);
      assert.equal(Number(found[1]), limits.maxCost);
      assert.ok(Number(found[2]) > limits.maxCost);
    });

    // Access / HTTP: alias limit, with many aliased fields.
    it('refuses more aliases than the limit with a clear error', async () => {
      const aliases = (n: number) =>
        `{ ${Array.from({ length: n }, (_, i) => `a${i}: nodes { id }`).join(' ')} }`;
      assert.deepEqual((await postGraphQL(plain.url, aliases(limits.maxAliases))).errors, []);
      const message = await refusal(aliases(limits.maxAliases + 1));
      const expected = `aliases limit of ${limits.maxAliases} exceeded, found ${limits.maxAliases + 1}`;
      assert.ok(message.toLowerCase().includes(expected.toLowerCase()), message);
    });
  });
});

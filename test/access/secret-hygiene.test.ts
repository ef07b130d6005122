import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import { poll } from '../support/eventually.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import { freePort } from '../support/free-port.js';
import { bytes, openChannelJson } from '../support/lnd-json.js';
import { PrivateNatsServer } from '../support/nats-server.js';
import { PrivateRedisServer } from '../support/redis-server.js';
import { channelPoint, pubkey } from '../support/store-fixture.js';
import {
  BOOT_HOOK_TIMEOUT_MS,
  privatePrefix,
  startAll,
  startExporters,
} from './support/exporters.js';
import { postGraphQL } from './support/graphql-client.js';
import { publishUntilCounted, sampleValue } from './support/probe.js';

/** A value no log line can contain by chance (hex: the same in URLs and JSON). */
const secret = (label: string): string => `${label}${randomBytes(10).toString('hex')}`;
const base64 = (text: string): string => Buffer.from(text).toString('base64');

/** Every secret in every form it could be logged in, absent from everything the process wrote. */
function assertNoSecret(
  exporter: ExporterProcess,
  secrets: Readonly<Record<string, string>>,
): void {
  const output = exporter.output();
  assert.ok(output.length > 0);
  for (const [name, value] of Object.entries(secrets)) {
    assert.ok(!output.includes(value), `${name} (${value}) appears in the output:\n${output}`);
  }
}

describe('access: no secret ever appears in the logs (real exporter, debug level)', function () {
  this.timeout(30_000);
  const natsUser = 'chanfitness';
  const natsPassword = secret('natsPw');
  const natsToken = secret('natsToken');
  const wrongNatsToken = secret('wrongNatsToken');
  const webUser = 'prometheus';
  const webPassword = secret('webPw');
  const wrongWebPassword = secret('wrongWebPw');
  const bearerToken = secret('bearer');
  const wrongBearerToken = secret('wrongBearer');
  const redisPassword = secret('redisPw');
  const redisRealPassword = secret('redisRealPw');
  const postgresPassword = secret('pgPw');
  const prefix = privatePrefix();
  const node = `node${randomBytes(3).toString('hex')}`;

  let passwordNats: PrivateNatsServer;
  let tokenNats: PrivateNatsServer;
  let redis: PrivateRedisServer;
  /** Flags: NATS user and password (right), web basic auth, Redis URL with a wrong password. */
  let withPasswords: ExporterProcess;
  /** Environment: NATS token (wrong), web bearer token, PostgreSQL URL with a password (down). */
  let withTokens: ExporterProcess;
  const exporters: ExporterProcess[] = [];
  const servers: { dispose(): Promise<void> }[] = [];

  before(async function () {
    this.timeout(BOOT_HOOK_TIMEOUT_MS);
    const started = await startAll<PrivateNatsServer | PrivateRedisServer>([
      PrivateNatsServer.start([], {
        jetstream: false,
        config: `authorization { user: "${natsUser}", password: "${natsPassword}" }\n`,
      }),
      PrivateNatsServer.start([], {
        jetstream: false,
        config: `authorization { token: "${natsToken}" }\n`,
      }),
      PrivateRedisServer.start({ password: redisRealPassword }),
    ]);
    servers.push(...started);
    [passwordNats, tokenNats, redis] = started as [
      PrivateNatsServer,
      PrivateNatsServer,
      PrivateRedisServer,
    ];
    const postgresPort = await freePort();
    const common = [
      `--nats.subject-prefix=${prefix}`,
      '--nats.bootstrap-timeout=300ms',
      '--flap.flush-interval=1s',
      '--store.timeout=500ms',
    ];
    exporters.push(
      ...(await startExporters([
        {
          args: [
            ...common,
            `--nats.url=${passwordNats.url}`,
            `--nats.user=${natsUser}`,
            `--nats.password=${natsPassword}`,
            `--web.basic-auth-user=${webUser}`,
            `--web.basic-auth-password=${webPassword}`,
            `--store.url=redis://:${redisPassword}@127.0.0.1:${redis.port}/`,
          ],
        },
        {
          args: [...common, `--nats.url=${tokenNats.url}`],
          env: {
            NATS_TOKEN: wrongNatsToken,
            WEB_BEARER_TOKEN: bearerToken,
            STORE_URL: `postgres://postgres:${postgresPassword}@127.0.0.1:${postgresPort}/test`,
          },
        },
      ])),
    );
    [withPasswords, withTokens] = exporters as [ExporterProcess, ExporterProcess];
  });
  after(async () => {
    await Promise.all(exporters.map((exporter) => exporter.dispose()));
    await Promise.all(servers.map((server) => server.dispose()));
  });

  // Access / "no secret ever appears in the logs": NATS password, basic auth password, and the
  // password of a Redis URL (refused by Redis), through events, store failures, 401s, GraphQL errors.
  it('logs none of the NATS password, web password or store URL password (flags)', async () => {
    const { url } = withPasswords;
    const authorization = `Basic ${base64(`${webUser}:${webPassword}`)}`;
    const auth = { Authorization: authorization };

    // Events: a channel opens, so its peer's flap record is read from (and flushed to) Redis,
    // which refuses the password.
    const nc = await connect({ servers: passwordNats.url, user: natsUser, pass: natsPassword });
    try {
      await publishUntilCounted(nc, url, prefix, node, auth);
      nc.publish(
        `${prefix}.${node}.channel_events`,
        bytes(openChannelJson(pubkey(1), channelPoint(1))),
      );
      await nc.flush();
    } finally {
      await nc.close();
    }
    await poll(async () => {
      const res = await fetch(`${url}/metrics`, { headers: auth });
      const failed = sampleValue(await res.text(), 'chanfitness_flap_flushes_total', {
        result: 'error',
      });
      return failed !== undefined && failed >= 1 ? failed : undefined;
    }, 'a flap flush to fail on the Redis password');

    // 401s: none, a wrong password, the right password under another scheme.
    const refused: Record<string, string>[] = [
      {},
      { Authorization: `Basic ${base64(`${webUser}:${wrongWebPassword}`)}` },
      { Authorization: `Bearer ${webPassword}` },
    ];
    for (const headers of refused) {
      assert.equal((await fetch(`${url}/metrics`, { headers })).status, 401);
      assert.equal((await fetch(`${url}/graphql`, { method: 'POST', headers })).status, 401);
    }
    // GraphQL errors: a bad argument, a syntax error, and a read of a persisted record
    // that Redis refuses.
    const bad = await postGraphQL(url, '{ channel(channelPoint: "nope") { node } }', auth);
    assert.equal(bad.errors[0]?.extensions?.code, 'BAD_USER_INPUT');
    const syntax = await postGraphQL(url, '{ nodes { id ', auth);
    assert.ok(syntax.errors.length > 0);
    const persisted = await postGraphQL(
      url,
      `{ peer(pubkey: "${pubkey(2)}", node: "${node}") { flapCount } }`,
      auth,
    );
    assert.ok(persisted.errors.length > 0, 'the Redis read must fail');

    // Stopping flushes once more, into the same refusal.
    await withPasswords.stop('SIGTERM');
    assertNoSecret(withPasswords, {
      natsPassword,
      webPassword,
      webCredentials: base64(`${webUser}:${webPassword}`),
      wrongWebPassword,
      wrongWebCredentials: base64(`${webUser}:${wrongWebPassword}`),
      redisPassword,
    });
  });

  // Access / "no secret ever appears in the logs": NATS token (refused), bearer token, and the
  // password of a PostgreSQL URL (unreachable), all from the environment.
  it('logs none of the NATS token, bearer token or store URL password (environment)', async () => {
    const { url } = withTokens;
    const auth = { Authorization: `Bearer ${bearerToken}` };
    await withTokens.waitForLog(
      (line) => Number(line.level) >= 40 && /authorization violation/i.test(JSON.stringify(line)),
    );
    const refused: Record<string, string>[] = [{}, { Authorization: `Bearer ${wrongBearerToken}` }];
    for (const headers of refused) {
      assert.equal((await fetch(`${url}/metrics`, { headers })).status, 401);
      assert.equal((await fetch(`${url}/graphql`, { method: 'POST', headers })).status, 401);
    }
    assert.equal((await fetch(`${url}/metrics`, { headers: auth })).status, 200);
    const bad = await postGraphQL(url, '{ channels(first: -1) { totalCount } }', auth);
    assert.equal(bad.errors[0]?.extensions?.code, 'BAD_USER_INPUT');
    const persisted = await postGraphQL(
      url,
      `{ peer(pubkey: "${pubkey(3)}", node: "${node}") { flapCount } }`,
      auth,
    );
    assert.ok(persisted.errors.length > 0, 'the PostgreSQL read must fail');

    await withTokens.stop('SIGTERM');
    assertNoSecret(withTokens, {
      wrongNatsToken,
      natsToken,
      bearerToken,
      wrongBearerToken,
      postgresPassword,
    });
  });
});

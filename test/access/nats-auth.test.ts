import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, credsAuthenticator, type ConnectionOptions } from 'nats';
import type { ExporterProcess } from '../support/exporter-process.js';
import { PrivateNatsServer } from '../support/nats-server.js';
import { makeTestPki, type TestPki } from '../support/pki.js';
import {
  BOOT_HOOK_TIMEOUT_MS,
  privatePrefix,
  startAll,
  startExporters,
} from './support/exporters.js';
import { makeOperatorSetup, type OperatorSetup, type UserCreds } from './support/nats-creds.js';
import { publishUntilCounted, sampleValue } from './support/probe.js';

/** A value no log line can contain by chance. */
const secret = (label: string): string => `${label}-${randomBytes(8).toString('hex')}`;

interface Consumer {
  readonly exporter: ExporterProcess;
  readonly prefix: string;
  readonly node: string;
}

interface ConsumerSpec {
  readonly natsUrl: string;
  readonly args?: readonly string[];
  readonly env?: Record<string, string>;
}

/**
 * Real exporters, booted together, each on its NATS server with its own subject
 * prefix and node name, an in-memory store and short bootstrap requests (no lnd
 * answers them here).
 */
async function startConsumers(specs: readonly ConsumerSpec[]): Promise<Consumer[]> {
  const prefixes = specs.map(() => privatePrefix());
  const exporters = await startExporters(
    specs.map((spec, i) => ({
      args: [
        `--nats.url=${spec.natsUrl}`,
        `--nats.subject-prefix=${prefixes[i]!}`,
        '--nats.bootstrap-timeout=300ms',
        '--store.url=sqlite://:memory:',
        ...(spec.args ?? []),
      ],
      env: spec.env ?? {},
    })),
  );
  return exporters.map((exporter, i) => ({
    exporter,
    prefix: prefixes[i]!,
    node: `node${randomBytes(3).toString('hex')}`,
  }));
}

/** Events published with the right credentials reach the exporter's /metrics, and it is ready. */
async function assertConsumes(consumer: Consumer, publisher: ConnectionOptions): Promise<void> {
  const nc = await connect(publisher);
  try {
    const counted = await publishUntilCounted(
      nc,
      consumer.exporter.url,
      consumer.prefix,
      consumer.node,
    );
    assert.ok(counted >= 1);
  } finally {
    await nc.close();
  }
  const metrics = await (await fetch(`${consumer.exporter.url}/metrics`)).text();
  assert.equal(sampleValue(metrics, 'chanfitness_nats_connected'), 1);
  assert.equal((await fetch(`${consumer.exporter.url}/readyz`)).status, 200);
}

/**
 * Refused by NATS: the process keeps running and serving, is not ready and
 * says it is not connected, and the log line `why` matches appears.
 */
async function assertRefusedButAlive(
  exporter: ExporterProcess,
  why: (line: Record<string, unknown>) => boolean,
): Promise<void> {
  await exporter.waitForLog(why);
  assert.equal(exporter.child.exitCode, null, 'the exporter must keep running');
  assert.equal((await fetch(`${exporter.url}/healthz`)).status, 200);
  const readyz = await fetch(`${exporter.url}/readyz`);
  assert.equal(readyz.status, 503);
  assert.match(await readyz.text(), /NATS is not connected/);
  const metrics = await (await fetch(`${exporter.url}/metrics`)).text();
  assert.equal(sampleValue(metrics, 'chanfitness_nats_connected'), 0);
  assert.equal(exporter.child.exitCode, null, 'the exporter must keep running');
}

function assertNotInOutput(exporter: ExporterProcess, secrets: readonly string[]): void {
  const output = exporter.output();
  for (const value of secrets) assert.ok(!output.includes(value), `a secret leaked:\n${output}`);
}

const logText = (line: Record<string, unknown>): string => JSON.stringify(line);
const atLeastWarn = (line: Record<string, unknown>): boolean => Number(line.level) >= 40;

describe('access: NATS authentication against nats-servers started with it (real exporter)', function () {
  this.timeout(30_000);
  const user = 'chanfitness';
  const password = secret('natsPw');
  const wrongPassword = secret('wrongPw');
  const token = secret('natsToken');
  let dir: string | undefined;
  let pki: TestPki;
  let operator: OperatorSetup;
  let exporterCreds: UserCreds;
  /** One nats-server per way to authenticate. */
  let passwordServer: PrivateNatsServer;
  let tokenServer: PrivateNatsServer;
  let operatorServer: PrivateNatsServer;
  let tlsServer: PrivateNatsServer;
  let tlsUrl: string;
  const servers: PrivateNatsServer[] = [];
  const exporters: ExporterProcess[] = [];
  let withFlags: Consumer;
  let withEnv: Consumer;
  let withWrongPassword: Consumer;
  let withToken: Consumer;
  let withCreds: Consumer;
  let withClientCert: Consumer;
  let withoutClientCert: Consumer;

  // The exporters take a few seconds of CPU each to boot: they all boot at once, here.
  before(async function () {
    this.timeout(BOOT_HOOK_TIMEOUT_MS);
    const tmp = mkdtempSync(join(tmpdir(), 'chanfitness-nats-auth-'));
    dir = tmp;
    pki = makeTestPki(tmp);
    operator = await makeOperatorSetup();
    exporterCreds = await operator.newUserCreds('exporter');
    const credsFile = join(tmp, 'exporter.creds');
    writeFileSync(credsFile, exporterCreds.text, { mode: 0o600 });
    const tlsConfig = [
      'tls {',
      `  cert_file: "${pki.serverCertFile}"`,
      `  key_file: "${pki.serverKeyFile}"`,
      `  ca_file: "${pki.caFile}"`,
      '  verify: true',
      '}',
      '',
    ].join('\n');
    servers.push(
      ...(await startAll(
        [
          `authorization { user: "${user}", password: "${password}" }\n`,
          `authorization { token: "${token}" }\n`,
          operator.serverConfig,
          tlsConfig,
        ].map((config) => PrivateNatsServer.start([], { jetstream: false, config })),
      )),
    );
    [passwordServer, tokenServer, operatorServer, tlsServer] = servers as [
      PrivateNatsServer,
      PrivateNatsServer,
      PrivateNatsServer,
      PrivateNatsServer,
    ];
    tlsUrl = `tls://127.0.0.1:${tlsServer.port}`;
    const tlsCa = `--nats.tls-ca=${pki.caFile}`;
    const consumers = await startConsumers([
      { natsUrl: passwordServer.url, args: [`--nats.user=${user}`, `--nats.password=${password}`] },
      { natsUrl: passwordServer.url, env: { NATS_USER: user, NATS_PASSWORD: password } },
      {
        natsUrl: passwordServer.url,
        args: [`--nats.user=${user}`, `--nats.password=${wrongPassword}`],
      },
      { natsUrl: tokenServer.url, args: [`--nats.token=${token}`] },
      { natsUrl: operatorServer.url, args: [`--nats.creds=${credsFile}`] },
      {
        natsUrl: tlsUrl,
        args: [
          tlsCa,
          `--nats.tls-cert=${pki.clientCertFile}`,
          `--nats.tls-key=${pki.clientKeyFile}`,
        ],
      },
      { natsUrl: tlsUrl, args: [tlsCa] },
    ]);
    exporters.push(...consumers.map((consumer) => consumer.exporter));
    [
      withFlags,
      withEnv,
      withWrongPassword,
      withToken,
      withCreds,
      withClientCert,
      withoutClientCert,
    ] = consumers as [Consumer, Consumer, Consumer, Consumer, Consumer, Consumer, Consumer];
  });
  after(async () => {
    await Promise.all(exporters.map((exporter) => exporter.dispose()));
    await Promise.all(servers.map((server) => server.dispose()));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  describe('user and password', () => {
    // Access / NATS: user and password (flags).
    it('consumes with --nats.user and --nats.password', async () => {
      await assertConsumes(withFlags, { servers: passwordServer.url, user, pass: password });
      assertNotInOutput(withFlags.exporter, [password]);
    });

    // Access / NATS: user and password (environment: NATS_USER, NATS_PASSWORD).
    it('consumes with NATS_USER and NATS_PASSWORD', async () => {
      await assertConsumes(withEnv, { servers: passwordServer.url, user, pass: password });
      assertNotInOutput(withEnv.exporter, [password]);
    });

    // Access / NATS: a wrong password is refused; the exporter stays up, not ready, and says why.
    it('with a wrong password keeps running, is not ready, and logs the authorization violation', async () => {
      const { exporter } = withWrongPassword;
      await assertRefusedButAlive(
        exporter,
        (line) => atLeastWarn(line) && /authorization violation/i.test(logText(line)),
      );
      assertNotInOutput(exporter, [wrongPassword, password]);
    });
  });

  describe('token', () => {
    // Access / NATS: token.
    it('consumes with --nats.token; the server refuses a client without it', async () => {
      await assert.rejects(connect({ servers: tokenServer.url }), /authorization violation/i);
      await assertConsumes(withToken, { servers: tokenServer.url, token });
      assertNotInOutput(withToken.exporter, [token]);
    });
  });

  describe('creds file (operator, account and user JWTs, NKey seed)', () => {
    // Access / NATS: creds file (nkey/JWT); also "no secret in the logs": not the file's content.
    it('consumes with --nats.creds, and logs neither the JWT nor the seed', async () => {
      await assert.rejects(connect({ servers: operatorServer.url }), /authorization violation/i);
      assert.match(exporterCreds.text, /-----BEGIN NATS USER JWT-----\n[\w.-]+\n------END/);
      assert.match(exporterCreds.text, /-----BEGIN USER NKEY SEED-----\nSU[A-Z2-7]+\n------END/);
      const publisherCreds = await operator.newUserCreds('publisher');
      await assertConsumes(withCreds, {
        servers: operatorServer.url,
        authenticator: credsAuthenticator(new TextEncoder().encode(publisherCreds.text)),
      });
      assertNotInOutput(withCreds.exporter, [exporterCreds.seed, exporterCreds.jwt]);
    });
  });

  describe('TLS with client certificates (verify: true)', () => {
    // Access / NATS: TLS (server verified against the test's CA, client certificate presented).
    it('consumes over tls:// with --nats.tls-ca, --nats.tls-cert and --nats.tls-key', async () => {
      await assertConsumes(withClientCert, {
        servers: tlsUrl,
        tls: { caFile: pki.caFile, certFile: pki.clientCertFile, keyFile: pki.clientKeyFile },
      });
    });

    // Access / NATS: TLS without the client certificate the server requires: refused, no crash.
    it('without a client certificate keeps running and is not ready', async () => {
      // nats.js surfaces this refusal only as a handshake timeout: the log names the
      // likely cause, the missing client certificate.
      await assertRefusedButAlive(
        withoutClientCert.exporter,
        (line) => atLeastWarn(line) && /client certificate/i.test(logText(line)),
      );
    });
  });
});

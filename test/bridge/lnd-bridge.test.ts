import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { startBridge, type RunningBridge } from '../../src/bridge/bridge.js';
import { createBridgeLogger } from '../../src/bridge/bridge-logger.js';
import { rfc3339ToMs } from '../../src/lnd/timestamp.js';
import { eventually, poll } from '../support/eventually.js';
import { ExporterProcess } from '../support/exporter-process.js';
import {
  closedChannelEvent,
  lndChannel,
  lndPeer,
  openChannelEvent,
  peerEventJson,
} from '../support/lnd-json.js';
import { captureOutput } from '../support/log-capture.js';
import {
  FakeLnd,
  LIST_CHANNELS,
  makeTlsCert,
  randomChannelPoint,
  randomPubkey,
  SUBSCRIBE_CHANNELS,
  SUBSCRIBE_PEERS,
} from './fake-lnd.js';
import { bridgeSettingsOf } from './settings-of.js';

const NATS_URL = 'nats://127.0.0.1:4222';
const ROOT = resolve(import.meta.dirname, '../..');
/** The built bin (`npm test` builds first; run `npm run build` before running one file). */
const BRIDGE_BIN = resolve(ROOT, 'dist/bridge/main.js');
const NODE = 'mynode';

/** The value of one sample of /metrics, matched on the labels given; undefined when absent. */
function sample(metrics: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf('}');
    const text = line.slice(name.length + 1, close);
    const found = new Map<string, string>();
    for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found.set(m[1] ?? '', m[2] ?? '');
    if (Object.entries(labels).every(([k, v]) => found.get(k) === v)) {
      return Number(line.slice(close + 1).trim());
    }
  }
  return undefined;
}

describe('lnd bridge: a fake lnd REST API through the bridge and NATS to the real exporter', function () {
  this.timeout(20_000);
  const prefix = `chanfitness-test-bridge-${randomUUID().slice(0, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), 'chanfitness-bridge-'));
  // A binary macaroon file as lnd writes one (v2 macaroons start with 0x02).
  const macaroon = Buffer.concat([Buffer.from([2, 1]), randomBytes(120)]);
  const macaroonFile = join(dir, 'readonly.macaroon');
  const wrongMacaroon = Buffer.concat([Buffer.from([2, 1]), randomBytes(120)]);
  const wrongMacaroonFile = join(dir, 'wrong.macaroon');
  let tls: { certFile: string; keyFile: string };
  let lnd: FakeLnd;
  let nc: NatsConnection;
  const seen: { subject: string; data: string }[] = [];
  let bridge: RunningBridge | undefined;
  const bridgeLog = captureOutput();
  let exporter: ExporterProcess | undefined;

  // Bootstrapped through ListChannels / ListPeers: channel A with P1, online.
  const p1 = randomPubkey();
  const channelA = lndChannel(p1, randomChannelPoint(1), { chanId: '879350917051449345' });
  // Streamed: P2 comes online, channel B opens with it, P2 goes offline.
  const p2 = randomPubkey();
  const channelB = lndChannel(p2, randomChannelPoint(0), { chanId: '879351016821555201' });

  const metrics = async (): Promise<string> => {
    const res = await fetch(`${exporter!.url}/metrics`);
    return res.text();
  };
  const graphql = async (query: string): Promise<Record<string, unknown>> => {
    const res = await fetch(`${exporter!.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as Record<string, unknown>;
  };

  before(async () => {
    writeFileSync(macaroonFile, macaroon);
    writeFileSync(wrongMacaroonFile, wrongMacaroon);
    tls = makeTlsCert(dir);
    lnd = await FakeLnd.start(tls.certFile, tls.keyFile, macaroon.toString('hex'));
    lnd.channels = [channelA];
    lnd.peers = [lndPeer(p1)];
    nc = await connect({ servers: NATS_URL, name: 'chanfitness-bridge-test' });
    nc.subscribe(`${prefix}.*.*`, {
      callback: (err, msg) => {
        // Status messages (heartbeats) are counted by bridge-status.test.ts, not here.
        if (err === null && !msg.subject.endsWith('.status')) {
          seen.push({ subject: msg.subject, data: msg.string() });
        }
      },
    });
    await nc.flush();
  });

  after(async () => {
    await exporter?.dispose();
    await bridge?.stop();
    await nc.drain();
    await lnd.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bootstraps the exporter from ListChannels/ListPeers and streams an open and peer online/offline to /metrics and GraphQL', async () => {
    const settings = bridgeSettingsOf([
      ...['--lnd.node', NODE, '--lnd.rest-url', lnd.url],
      ...['--lnd.macaroon', macaroonFile, '--lnd.tls-cert', tls.certFile],
      ...['--lnd.retry-min', '50ms', '--lnd.retry-max', '200ms'],
      ...['--nats.url', NATS_URL, '--nats.subject-prefix', prefix],
    ]);
    bridge = await startBridge(
      settings,
      createBridgeLogger('debug', 'json', NODE, bridgeLog.destination),
    );
    await eventually(
      () => lnd.openStreams(SUBSCRIBE_CHANNELS) === 1 && lnd.openStreams(SUBSCRIBE_PEERS) === 1,
      'both subscriptions',
      5_000,
    );

    // The bridge answers with lnd's JSON byte for byte, lnd's own lifetime and uptime included.
    const reply = await nc.request(`${prefix}.${NODE}.rpc.list_channels`, '{}', { timeout: 3_000 });
    assert.equal(reply.string(), lnd.lastBodies.get(LIST_CHANNELS));
    const listed = (JSON.parse(reply.string()) as { channels: Record<string, unknown>[] }).channels;
    assert.deepEqual(
      listed.map(({ lifetime, uptime, ...rest }) => {
        assert.match(String(lifetime), /^\d+$/);
        assert.match(String(uptime), /^\d+$/);
        return rest;
      }),
      [channelA].map(({ lifetime: _lifetime, uptime: _uptime, ...rest }) => rest),
    );

    exporter = await ExporterProcess.start({
      args: [
        `--nats.subject-prefix=${prefix}`,
        `--nats.nodes=${NODE}`,
        '--nats.bootstrap-timeout=3s',
      ],
    });
    const bootstrapped = await exporter.waitForLog((l) => l.msg === 'bootstrapped node');
    assert.equal(bootstrapped.channels, 1);
    assert.equal(bootstrapped.onlinePeers, 1);
    let text = await metrics();
    const a = { node: NODE, channel_point: channelA.channel_point, peer: p1 };
    assert.ok(sample(text, 'chanfitness_channel_lifetime_seconds', a) !== undefined, text);
    assert.equal(sample(text, 'chanfitness_peer_online', { node: NODE, peer: p1 }), 1);
    // Every lnd call carried the right macaroon; both lists were asked for.
    assert.ok(lnd.requests.every((r) => r.macaroonOk));
    assert.ok(lnd.requests.filter((r) => r.path === '/v1/peers').length >= 1);
    assert.ok(lnd.requests.filter((r) => r.path === '/v1/channels').length >= 2);

    // Two streams, two connections: each push waits for the one before to be on NATS,
    // as lnd's own events are spaced out in time.
    const pushed = async (
      path: typeof SUBSCRIBE_PEERS | typeof SUBSCRIBE_CHANNELS,
      message: Record<string, unknown>,
    ) => {
      const count = seen.length;
      lnd.push(path, message);
      await eventually(() => seen.length > count, 'the event on NATS', 5_000);
    };
    const before = Date.now();
    await pushed(SUBSCRIBE_PEERS, peerEventJson(p2, true));
    await pushed(SUBSCRIBE_CHANNELS, openChannelEvent(channelB));
    await pushed(SUBSCRIBE_PEERS, peerEventJson(p2, false));

    const b = { node: NODE, channel_point: channelB.channel_point, peer: p2 };
    text = await poll(
      async () => {
        const t = await metrics();
        return sample(t, 'chanfitness_channel_lifetime_seconds', b) !== undefined &&
          sample(t, 'chanfitness_peer_online', { node: NODE, peer: p2 }) === 0
          ? t
          : undefined;
      },
      'channel B and P2 offline on /metrics',
      5_000,
    );
    // The open created P2's monitor (one flap, online), the offline event a second flap.
    assert.equal(sample(text, 'chanfitness_peer_flap_count', { node: NODE, peer: p2 }), 2);
    assert.equal(sample(text, 'chanfitness_peer_channels', { node: NODE, peer: p2 }), 1);
    assert.equal(sample(text, 'chanfitness_peer_channels', { node: NODE, peer: p1 }), 1);

    const answer = await graphql(
      `{ channel(channelPoint: "${channelB.channel_point}", node: "${NODE}") {
           openedAt peer { pubkey online flapCount channels { channelPoint } } } }`,
    );
    assert.equal(answer.errors, undefined, JSON.stringify(answer));
    const channel = (answer.data as { channel: Record<string, unknown> }).channel;
    assert.deepEqual(channel.peer, {
      pubkey: p2,
      online: false,
      flapCount: 2,
      channels: [{ channelPoint: channelB.channel_point }],
    });

    // On NATS: lnd's objects as streamed, wrapper included, plus the receive time.
    const published = seen
      .filter((m) => m.subject.startsWith(`${prefix}.${NODE}.`) && !m.subject.includes('.rpc.'))
      .map((m) => {
        const body = JSON.parse(m.data) as { result: unknown; timestamp: unknown };
        return { subject: m.subject, result: body.result, timestamp: String(body.timestamp) };
      });
    assert.deepEqual(
      published.map(({ subject, result }) => ({ subject, result })),
      [
        { subject: `${prefix}.${NODE}.peer_events`, result: peerEventJson(p2, true) },
        { subject: `${prefix}.${NODE}.channel_events`, result: openChannelEvent(channelB) },
        { subject: `${prefix}.${NODE}.peer_events`, result: peerEventJson(p2, false) },
      ],
    );
    for (const message of published) {
      const time = rfc3339ToMs(message.timestamp);
      assert.ok(
        time !== undefined && time >= before - 1 && time <= Date.now(),
        `timestamp ${message.timestamp}`,
      );
    }
    const openedAt = rfc3339ToMs(String(channel.openedAt));
    assert.equal(openedAt, rfc3339ToMs(published[1]!.timestamp));
  });

  it('reopens a stream lnd ends (cleanly or with an error) and keeps relaying', async () => {
    assert.ok(bridge !== undefined && exporter !== undefined);
    lnd.end(SUBSCRIBE_PEERS);
    lnd.end(SUBSCRIBE_CHANNELS, { code: 14, message: 'transport is closing' });
    await eventually(
      () =>
        lnd.acceptedStreams(SUBSCRIBE_PEERS) === 2 &&
        lnd.acceptedStreams(SUBSCRIBE_CHANNELS) === 2 &&
        lnd.openStreams(SUBSCRIBE_PEERS) === 1 &&
        lnd.openStreams(SUBSCRIBE_CHANNELS) === 1,
      'both subscriptions reopened',
      5_000,
    );
    const logs = bridgeLog.lines();
    assert.ok(
      logs.some((l) => /peer events: lnd ended the stream; reconnecting/.test(String(l.msg))),
    );
    assert.ok(
      logs.some(
        (l) => l.lndError === 'transport is closing' && l.grpcCode === 14 && l.level === 50,
      ),
    );

    lnd.push(SUBSCRIBE_PEERS, peerEventJson(p2, true));
    lnd.push(SUBSCRIBE_CHANNELS, closedChannelEvent(p2, channelB.channel_point, channelB.chan_id));
    const b = { node: NODE, channel_point: channelB.channel_point, peer: p2 };
    const text = await poll(
      async () => {
        const t = await metrics();
        // The channel families are written before the peer families: a close applied
        // between them shows in one and not yet in the other, so wait for a scrape
        // taken wholly after it.
        const closed =
          sample(t, 'chanfitness_peer_channels', { node: NODE, peer: p2 }) === 0 &&
          sample(t, 'chanfitness_channel_lifetime_seconds', b) === undefined;
        return closed ? t : undefined;
      },
      'channel B closed on /metrics',
      5_000,
    );
    assert.equal(sample(text, 'chanfitness_channel_lifetime_seconds', b), undefined);
    assert.equal(sample(text, 'chanfitness_peer_online', { node: NODE, peer: p2 }), 1);
    // lnd failed a stream: the bridge reported lnd down, then up once the stream was accepted
    // again, so the exporter does not observe the node until --observer.settle (2 min) after
    // that. P2's online event falls in that gap: it updates P2's connectivity and adds no
    // flap (observed time), the close applies as usual.
    assert.equal(sample(text, 'chanfitness_node_observed', { node: NODE }), 0);
    assert.equal(sample(text, 'chanfitness_peer_flap_count', { node: NODE, peer: p2 }), 2);
    assert.equal(bridge.channelEvents.published, 2);
    assert.equal(bridge.peerEvents.published, 3);
    assert.equal(bridgeLog.text().includes(macaroon.toString('hex')), false);

    await bridge.stop();
    assert.equal(await bridge.done, 'stopped');
    assert.equal(lnd.openStreams(SUBSCRIBE_PEERS) + lnd.openStreams(SUBSCRIBE_CHANNELS), 0);
    assert.ok(bridgeLog.lines().some((l) => l.msg === 'lnd bridge stopped'));
  });

  it('with a wrong macaroon: logs the refusal, retries, never crashes nor logs the macaroon, exits 0 on SIGTERM', async () => {
    const node = 'badmac';
    assert.ok(existsSync(BRIDGE_BIN), `${BRIDGE_BIN} is missing: run \`npm run build\` first`);
    const child = spawn(
      process.execPath,
      [
        BRIDGE_BIN,
        '--lnd.node',
        node,
        '--lnd.rest-url',
        lnd.url,
        '--lnd.macaroon',
        wrongMacaroonFile,
        '--lnd.tls-cert',
        tls.certFile,
        '--lnd.retry-min',
        '100ms',
        '--lnd.retry-max',
        '200ms',
        '--nats.subject-prefix',
        prefix,
        '--log.format',
        'json',
      ],
      // Only PATH and HOME of the test's environment: its NATS_* or LOG_* must not leak in.
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', resolveExit));
    try {
      await eventually(
        () => lnd.refused(SUBSCRIBE_PEERS) >= 3 && lnd.refused(SUBSCRIBE_CHANNELS) >= 3,
        'three refused attempts on each stream',
        10_000,
      );
      // Bootstrap requests get no reply (a timeout for the exporter), not an empty node.
      await assert.rejects(
        nc.request(`${prefix}.${node}.rpc.list_peers`, '{}', { timeout: 1_000 }),
        /timeout/i,
      );
      await eventually(
        () => output.includes('cannot answer list_peers'),
        'the failed answer',
        5_000,
      );
      assert.equal(child.exitCode, null, output);
      // As lnd refuses a macaroon: gRPC code 2 (Unknown), so HTTP 500, with lnd's message.
      assert.match(output, /lnd refused the subscription \(HTTP 500: verification failed/);
      assert.match(output, /check --lnd\.macaroon/);
      for (const secret of [wrongMacaroon, macaroon]) {
        assert.equal(output.includes(secret.toString('hex')), false, 'a macaroon reached the log');
        assert.equal(output.includes(secret.toString('base64')), false);
      }
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            reject(new Error(`no exit after SIGTERM:\n${output}`));
          }, 10_000);
        }),
      ]).finally(() => {
        clearTimeout(timer);
      });
      assert.equal(code, 0, output);
      assert.match(output, /lnd bridge stopped/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

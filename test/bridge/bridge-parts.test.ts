import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, RetentionPolicy, StorageType, type NatsConnection } from 'nats';
import { createBridgeLogger } from '../../src/bridge/bridge-logger.js';
import { LineSplitter, LineTooLongError } from '../../src/bridge/lnd/line-splitter.js';
import {
  LndHttpError,
  LndRestClient,
  lndStatus,
  readCredentials,
} from '../../src/bridge/lnd/lnd-rest-client.js';
import { JetStreamPublisher } from '../../src/bridge/nats/publisher.js';
import { RpcResponder, slim } from '../../src/bridge/nats/rpc-responder.js';
import { describeFailure, withTimestamp } from '../../src/bridge/stream-relay.js';
import { decodeListChannels } from '../../src/lnd/decode-rpc.js';
import { readEventEnvelope } from '../../src/lnd/event-envelope.js';
import { eventually } from '../support/eventually.js';
import { lndChannel, lndPeer, peerEventJson } from '../support/lnd-json.js';
import { captureOutput } from '../support/log-capture.js';
import { PrivateNatsServer } from '../support/nats-server.js';
import { SECOND, TEST_NOW, TestClock } from '../support/test-clock.js';
import {
  FakeLnd,
  LIST_CHANNELS,
  makeTlsCert,
  randomChannelPoint,
  randomPubkey,
  SUBSCRIBE_PEERS,
} from './fake-lnd.js';

/** A GET without a macaroon, trusting the certificate: the status and the JSON body. */
function fetchInsecure(url: string, caFile: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolveReply, reject) => {
    const req = httpsRequest(url, { ca: readFileSync(caFile) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        resolveReply({ status: res.statusCode ?? 0, body: JSON.parse(text) });
      });
    });
    req.once('error', reject);
    req.end();
  });
}

function captureLog(): { logger: ReturnType<typeof createBridgeLogger>; text: () => string } {
  const output = captureOutput();
  return {
    logger: createBridgeLogger('debug', 'json', 'test', output.destination),
    text: output.text,
  };
}

describe('lnd bridge parts', function () {
  this.timeout(20_000);

  describe('LineSplitter', () => {
    it('splits lines across chunk boundaries, drops \\r and blank lines, returns a last unterminated line', () => {
      const splitter = new LineSplitter(100);
      assert.deepEqual(splitter.push('{"a":1}\n{"b"'), ['{"a":1}']);
      assert.deepEqual(splitter.push(':2}\r\n\n  \n{"c":3}\n{"d"'), ['{"b":2}', '{"c":3}']);
      assert.deepEqual(splitter.push(':4}'), []);
      assert.equal(splitter.end(), '{"d":4}');
      assert.equal(splitter.end(), undefined);
    });

    it('refuses a partial line over the limit', () => {
      const splitter = new LineSplitter(10);
      assert.deepEqual(splitter.push('0123456789'), []);
      assert.throws(() => splitter.push('X'), LineTooLongError);
    });
  });

  describe('withTimestamp', () => {
    it("adds the receive time at the top level and keeps lnd's JSON byte for byte", () => {
      const line = '{"result":{"pub_key":"02ab","type":"PEER_ONLINE"}}';
      const out = withTimestamp(
        line,
        JSON.parse(line) as Record<string, unknown>,
        Date.UTC(2024, 4, 1, 12),
      );
      assert.equal(
        out,
        '{"result":{"pub_key":"02ab","type":"PEER_ONLINE"},"timestamp":"2024-05-01T12:00:00.000Z"}',
      );
      // The exporter reads it: the body unwrapped, the timestamp beside the wrapper.
      const envelope = readEventEnvelope(out);
      assert.deepEqual(envelope.body, { pub_key: '02ab', type: 'PEER_ONLINE' });
      assert.equal(envelope.timestamp, Date.UTC(2024, 4, 1, 12));
    });

    it('keeps a timestamp already there, and handles an empty object and trailing blanks', () => {
      const stamped = '{"result":{},"timestamp":"2024-01-01T00:00:00Z"}';
      assert.equal(
        withTimestamp(stamped, JSON.parse(stamped) as Record<string, unknown>, 0),
        stamped,
      );
      assert.equal(withTimestamp('{} ', {}, 0), '{"timestamp":"1970-01-01T00:00:00.000Z"}');
    });
  });

  describe('lndStatus and describeFailure', () => {
    it("reads lnd's unary, streaming and older gateway error JSON", () => {
      assert.deepEqual(lndStatus('{"code":2,"message":"permission denied","details":[]}'), {
        message: 'permission denied',
        code: 2,
      });
      assert.deepEqual(lndStatus('{"error":{"code":14,"message":"transport is closing"}}'), {
        message: 'transport is closing',
        code: 14,
      });
      assert.deepEqual(
        lndStatus('{"error":{"grpc_code":2,"http_code":500,"message":"wallet locked"}}'),
        { message: 'wallet locked', code: 2 },
      );
      assert.deepEqual(lndStatus('Bad Gateway'), { message: 'Bad Gateway', code: undefined });
      assert.equal(lndStatus('{"result":{}}'), undefined);
    });

    it('says what to fix', () => {
      assert.match(
        describeFailure(new LndHttpError(500, 'verification failed: signature mismatch', 2)),
        /check --lnd\.macaroon/,
      );
      assert.match(
        describeFailure(new LndHttpError(401, undefined, undefined)),
        /check --lnd\.macaroon/,
      );
      assert.match(
        describeFailure(
          new LndHttpError(500, 'wallet locked, unlock it to enable full RPC access', 2),
        ),
        /not ready/,
      );
      const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8080'), {
        code: 'ECONNREFUSED',
      });
      assert.match(describeFailure(refused), /is lnd running/);
    });
  });

  describe('slim', () => {
    it("keeps the fields the exporter reads, lnd's lifetime and uptime included, in the reply shape it decodes", () => {
      const pk = randomPubkey();
      const channel = {
        ...lndChannel(pk, randomChannelPoint(2), { chanId: '1' }),
        lifetime: '86400',
        uptime: '43200',
      };
      const body = Buffer.from(JSON.stringify({ channels: [channel] }));
      const slimmed = slim(body, 'channels');
      assert.deepEqual(JSON.parse(slimmed), {
        channels: [
          {
            remote_pubkey: pk,
            channel_point: channel.channel_point,
            chan_id: '1',
            active: true,
            private: false,
            initiator: false,
            lifetime: '86400',
            uptime: '43200',
          },
        ],
      });
      assert.deepEqual(
        decodeListChannels(slimmed).channels.map((c) => [c.pubkey, c.channelPoint]),
        [[pk, channel.channel_point]],
      );
      assert.deepEqual(
        JSON.parse(slim(Buffer.from(JSON.stringify({ peers: [lndPeer(pk)] })), 'peers')),
        {
          peers: [
            {
              pub_key: pk,
              address: '203.0.113.7:9735',
              inbound: false,
              flap_count: 1,
              last_flap_ns: '1714560000000000000',
            },
          ],
        },
      );
    });
  });

  describe('against a fake lnd', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chanfitness-bridge-parts-'));
    const macaroon = Buffer.concat([Buffer.from([2, 1]), randomBytes(64)]);
    const macaroonFile = join(dir, 'bridge.macaroon');
    let tls: { certFile: string; keyFile: string };
    let lnd: FakeLnd;

    before(async () => {
      writeFileSync(macaroonFile, macaroon);
      tls = makeTlsCert(dir);
      lnd = await FakeLnd.start(tls.certFile, tls.keyFile, macaroon.toString('hex'));
    });

    after(async () => {
      await lnd.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('trusts lnd through its tls.cert only, and reads a hex macaroon file as well as a binary one', async () => {
      const pk = randomPubkey();
      lnd.peers = [lndPeer(pk)];
      const hexFile = join(dir, 'hex.macaroon');
      writeFileSync(hexFile, `${macaroon.toString('hex')}\n`);
      for (const file of [macaroonFile, hexFile]) {
        const client = new LndRestClient({
          baseUrl: new URL(`${lnd.url}/`),
          credentials: () => readCredentials(file, tls.certFile),
        });
        const body = await client.get('v1/peers', 5_000);
        assert.deepEqual(JSON.parse(body.toString()), { peers: [lndPeer(pk)] });
      }
      const untrusting = new LndRestClient({
        baseUrl: new URL(`${lnd.url}/`),
        credentials: () => readCredentials(macaroonFile, undefined),
      });
      const err = await untrusting.get('v1/peers', 5_000).then(
        () => assert.fail('an untrusted certificate was accepted'),
        (e: unknown) => e,
      );
      assert.match(describeFailure(err), /pass lnd's tls\.cert as --lnd\.tls-cert/);
    });

    it("streams lnd's lines with their receive time, and ends when lnd ends the stream", async () => {
      const client = new LndRestClient({
        baseUrl: new URL(`${lnd.url}/`),
        credentials: () => readCredentials(macaroonFile, tls.certFile),
        clock: new TestClock(42),
      });
      const lines: [string, number][] = [];
      let opened = 0;
      const ended = client.stream(
        'v1/peers/subscribe',
        { onOpen: () => opened++, onLine: (line, at) => lines.push([line, at]) },
        new AbortController().signal,
      );
      await eventually(() => lnd.openStreams(SUBSCRIBE_PEERS) === 1, 'the subscription', 5_000);
      const pk = randomPubkey();
      lnd.push(SUBSCRIBE_PEERS, peerEventJson(pk, true));
      lnd.push(SUBSCRIBE_PEERS, peerEventJson(pk, false));
      await eventually(() => lines.length === 2, 'two lines', 5_000);
      lnd.end(SUBSCRIBE_PEERS);
      await ended;
      assert.equal(opened, 1);
      assert.deepEqual(lines, [
        [JSON.stringify({ result: peerEventJson(pk, true) }), 42],
        [JSON.stringify({ result: peerEventJson(pk, false) }), 42],
      ]);
    });

    it("answers with lnd's reply slimmed to NATS's max_payload, and not at all when lnd fails", async () => {
      const nats = await PrivateNatsServer.start([], {
        config: 'max_payload: 4096\n',
        jetstream: false,
      });
      const nc = await connect({ servers: nats.url });
      const abort = new AbortController();
      const log = captureLog();
      try {
        lnd.channels = Array.from({ length: 8 }, (_, i) =>
          lndChannel(randomPubkey(), randomChannelPoint(i), { chanId: String(1000 + i) }),
        );
        const client = new LndRestClient({
          baseUrl: new URL(`${lnd.url}/`),
          credentials: () => readCredentials(macaroonFile, tls.certFile),
        });
        const responder = new RpcResponder({
          nc,
          client,
          subjectBase: 'lnd.small.rpc',
          timeoutMs: 5_000,
          logger: log.logger,
          signal: abort.signal,
        });
        responder.start();
        const reply = await nc.request('lnd.small.rpc.list_channels', '{}', { timeout: 5_000 });
        assert.ok(reply.data.length <= 4096);
        assert.deepEqual(
          decodeListChannels(reply.data).channels.map((c) => c.channelPoint),
          lnd.channels.map((c) => c.channel_point),
        );
        assert.match(log.text(), /over the NATS max_payload/);

        const failing = new LndRestClient({
          baseUrl: new URL(`${lnd.url}/`),
          credentials: () => readCredentials(join(dir, 'missing.macaroon'), tls.certFile),
        });
        const failingResponder = new RpcResponder({
          nc,
          client: failing,
          subjectBase: 'lnd.broken.rpc',
          timeoutMs: 5_000,
          logger: log.logger,
          signal: abort.signal,
        });
        failingResponder.start();
        await assert.rejects(
          nc.request('lnd.broken.rpc.list_peers', '{}', { timeout: 500 }),
          /timeout/i,
        );
        assert.equal(failingResponder.failed, 1);
        abort.abort();
        await responder.stop();
        await failingResponder.stop();
      } finally {
        await nc.close();
        await nats.dispose();
      }
    });
  });

  describe("the fake lnd follows lnd's REST API", () => {
    const dir = mkdtempSync(join(tmpdir(), 'chanfitness-bridge-fake-'));
    const macaroon = Buffer.concat([Buffer.from([2, 1]), randomBytes(64)]);
    const macaroonFile = join(dir, 'bridge.macaroon');
    const wrongFile = join(dir, 'wrong.macaroon');
    const clock = new TestClock(TEST_NOW);
    let tls: { certFile: string; keyFile: string };
    let lnd: FakeLnd;
    const client = (file: string): LndRestClient =>
      new LndRestClient({
        baseUrl: new URL(`${lnd.url}/`),
        credentials: () => readCredentials(file, tls.certFile),
      });

    before(async () => {
      writeFileSync(macaroonFile, macaroon);
      writeFileSync(wrongFile, randomBytes(66));
      tls = makeTlsCert(dir);
      lnd = await FakeLnd.start(tls.certFile, tls.keyFile, macaroon.toString('hex'), { clock });
    });

    after(async () => {
      await lnd.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("answers ListChannels with lnd's own lifetime and uptime: int64 seconds as strings, in lnd's field order", async () => {
      const online = randomPubkey();
      const flapping = randomPubkey();
      const a = lndChannel(online, randomChannelPoint(0), { chanId: '11' });
      const b = lndChannel(flapping, randomChannelPoint(1), { chanId: '12' });
      lnd.channels = [a, b];
      lnd.peers = [lndPeer(online), lndPeer(flapping)];
      clock.advance(90 * SECOND);
      lnd.peers = [lndPeer(online)]; // `flapping` disconnects
      clock.advance(30 * SECOND);
      lnd.peers = [lndPeer(online), lndPeer(flapping)];
      clock.advance(10 * SECOND);

      const body = (await client(macaroonFile).get('v1/channels', 5_000)).toString();
      assert.equal(body, lnd.lastBodies.get(LIST_CHANNELS));
      const { channels } = JSON.parse(body) as { channels: Record<string, unknown>[] };
      assert.deepEqual(
        channels.map((c) => [c.channel_point, c.lifetime, c.uptime]),
        [
          [a.channel_point, '130', '130'],
          [b.channel_point, '130', '100'],
        ],
      );
      // Every field of lnrpc.Channel, in the proto's order, lifetime and uptime where lnd puts them.
      assert.deepEqual(Object.keys(channels[0] ?? {}), Object.keys(a));
      const keys = Object.keys(a);
      const at = keys.indexOf('lifetime');
      assert.deepEqual(keys.slice(at - 1, at + 3), [
        'commitment_type',
        'lifetime',
        'uptime',
        'close_address',
      ]);
      assert.equal(Object.keys(a).at(-1), 'custom_channel_data');

      const info = JSON.parse(
        (await client(macaroonFile).get('v1/getinfo', 5_000)).toString(),
      ) as Record<string, unknown>;
      assert.equal(info.num_active_channels, 2);
      assert.equal(info.num_peers, 2);
      assert.equal(typeof info.best_header_timestamp, 'string');
    });

    it('refuses a wrong or missing macaroon as lnd does: HTTP 500, gRPC code 2, its message; a stream with {"error": …}', async () => {
      const refusal = (await client(wrongFile)
        .get('v1/peers', 5_000)
        .then(
          () => assert.fail('a wrong macaroon was accepted'),
          (e: unknown) => e,
        )) as LndHttpError;
      assert.ok(refusal instanceof LndHttpError);
      assert.deepEqual(
        [refusal.status, refusal.grpcCode, refusal.lndMessage],
        [500, 2, 'verification failed: signature mismatch after caveat verification'],
      );
      assert.match(describeFailure(refusal), /check --lnd\.macaroon/);

      const streamRefusal = await client(wrongFile)
        .stream(
          'v1/channels/subscribe',
          { onOpen: () => undefined, onLine: () => undefined },
          new AbortController().signal,
        )
        .then(
          () => assert.fail('a wrong macaroon was accepted'),
          (e: unknown) => e,
        );
      assert.ok(streamRefusal instanceof LndHttpError);
      assert.equal(streamRefusal.grpcCode, 2);

      const res = await fetchInsecure(`${lnd.url}/v1/getinfo`, tls.certFile);
      assert.deepEqual(res, {
        status: 500,
        body: { code: 2, message: 'expected 1 macaroon, got 0', details: [] },
      });
      const unknown = await client(macaroonFile)
        .get('v1/nothing', 5_000)
        .then(
          () => assert.fail('an unknown path answered'),
          (e: unknown) => e,
        );
      assert.ok(unknown instanceof LndHttpError);
      assert.deepEqual([unknown.status, unknown.grpcCode], [404, 5]);
    });

    it('answers as lnd with its wallet locked, and the bridge says lnd is not ready', async () => {
      await lnd.goDown('locked');
      try {
        const err = await client(macaroonFile)
          .get('v1/getinfo', 5_000)
          .then(
            () => assert.fail('a locked lnd answered'),
            (e: unknown) => e,
          );
        assert.match(
          describeFailure(err, 'GetInfo'),
          /lnd is not ready \(wallet locked or starting\)/,
        );
      } finally {
        await lnd.comeBack();
      }
    });
  });

  describe('JetStreamPublisher (real NATS)', () => {
    let nc: NatsConnection;
    const prefix = `chanfitness-test-bridge-js-${randomUUID().slice(0, 8)}`;
    const stream = `bridge-test-${randomUUID().slice(0, 8)}`;

    before(async () => {
      nc = await connect({ servers: 'nats://127.0.0.1:4222' });
    });

    after(async () => {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.drain();
    });

    it('retries until a stream acknowledges, then keeps the order across subjects', async () => {
      const log = captureLog();
      const publisher = new JetStreamPublisher(nc, log.logger, {
        retryMs: 50,
        ackTimeoutMs: 1_000,
      });
      const subjects = [
        `${prefix}.n.peer_events`,
        `${prefix}.n.channel_events`,
        `${prefix}.n.peer_events`,
      ];
      subjects.forEach((subject, i) => {
        publisher.publish(subject, `{"n":${i}}`);
      });
      await eventually(
        () => log.text().includes('no stream captures'),
        'the no-stream error',
        5_000,
      );
      assert.equal(publisher.published, 0);

      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({
        name: stream,
        subjects: [`${prefix}.*.channel_events`, `${prefix}.*.peer_events`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.Memory,
      });
      await eventually(() => publisher.published === 3, 'three acknowledgements', 10_000);
      const stored = await Promise.all(
        [1, 2, 3].map(async (seq) => {
          const m = await jsm.streams.getMessage(stream, { seq });
          return [m.subject, new TextDecoder().decode(m.data)];
        }),
      );
      assert.deepEqual(
        stored,
        subjects.map((subject, i) => [subject, `{"n":${i}}`]),
      );
      assert.equal((await jsm.streams.info(stream)).state.messages, 3);
      await publisher.close(1_000);
      assert.equal(publisher.dropped, 0);
    });

    it('drops a status message no stream captures, not holding back the events behind it; stores it in order once captured', async () => {
      const log = captureLog();
      const publisher = new JetStreamPublisher(nc, log.logger, {
        retryMs: 50,
        ackTimeoutMs: 1_000,
      });
      const statusPrefix = `${prefix}-status`;
      const statusStream = `${stream}-status`;
      const status = `${statusPrefix}.n.status`;
      const peerEvents = `${statusPrefix}.n.peer_events`;
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({
        name: statusStream,
        subjects: [`${statusPrefix}.*.channel_events`, `${statusPrefix}.*.peer_events`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.Memory,
      });
      try {
        publisher.publish(status, '{"lnd":"up"}', { skipUncaptured: true });
        publisher.publish(peerEvents, '{"n":1}');
        await eventually(() => publisher.published === 1, 'the event acknowledged', 5_000);
        assert.equal(publisher.uncaptured, 1);
        assert.match(log.text(), /no stream captures [^ ]+\.n\.status: dropping it/);

        await jsm.streams.update(statusStream, {
          subjects: [
            `${statusPrefix}.*.channel_events`,
            `${statusPrefix}.*.peer_events`,
            `${statusPrefix}.*.status`,
          ],
        });
        publisher.publish(status, '{"lnd":"down"}', { skipUncaptured: true });
        publisher.publish(peerEvents, '{"n":2}');
        await eventually(() => publisher.published === 3, 'three acknowledgements', 5_000);
        const stored = await Promise.all(
          [1, 2, 3].map(async (seq) => {
            const m = await jsm.streams.getMessage(statusStream, { seq });
            return [m.subject, new TextDecoder().decode(m.data)];
          }),
        );
        assert.deepEqual(stored, [
          [peerEvents, '{"n":1}'],
          [status, '{"lnd":"down"}'],
          [peerEvents, '{"n":2}'],
        ]);
        await publisher.close(1_000);
        assert.equal(publisher.dropped, 0);
        assert.equal(publisher.uncaptured, 1);
      } finally {
        await jsm.streams.delete(statusStream).catch(() => undefined);
      }
    });
  });
});

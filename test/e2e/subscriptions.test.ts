import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { delay, eventually, pollUntil } from '../support/eventually.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import { HealthWatch } from '../support/health-watch.js';
import { closedChannelJson, openChannelJson, peerEventJson } from '../support/lnd-json.js';
import { SseReader } from '../support/sse.js';
import {
  appliedEvents,
  HOUR,
  iso,
  MINUTE,
  Publisher,
  randomChannelPoint,
  randomPubkey,
  randomToken,
  SECOND,
  startExporter,
} from './support.js';

/**
 * GraphQL subscriptions over server-sent events against the real process:
 * a client reading the stream gets exactly the events published on NATS for
 * what it subscribed to; a client that never reads neither slows ingestion
 * nor holds more than its bounded queue, and is dropped; the number of
 * subscriptions is bounded; authentication applies.
 */

interface GraphQLError {
  readonly message: string;
  readonly extensions?: { readonly code?: string };
}

interface Result<T> {
  readonly data?: T | null;
  readonly errors?: GraphQLError[];
}

interface PeerEventJson {
  readonly node: string;
  readonly pubkey: string;
  readonly type: string;
  readonly time: string;
  readonly reordered: boolean;
  readonly tracked: boolean;
  readonly flapCount: number | null;
}

interface ChannelEventJson {
  readonly node: string;
  readonly pubkey: string;
  readonly channelPoint: string;
  readonly type: string;
  readonly time: string;
  readonly flapCount: number;
}

const PEER_EVENTS = `subscription ($node: String, $peer: String) {
  peerEvents(node: $node, peer: $peer) { node pubkey type time reordered tracked flapCount }
}`;
const CHANNEL_EVENTS = `subscription ($node: String) {
  channelEvents(node: $node) { node pubkey channelPoint type time flapCount }
}`;

/** POSTs a subscription as an SSE client does; the response as it comes (headers read). */
async function subscribe(
  exporter: ExporterProcess,
  query: string,
  variables: Record<string, unknown>,
  options: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${exporter.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...options.headers,
    },
    body: JSON.stringify({ query, variables }),
    signal: options.signal,
  });
}

/** A subscription that must be served: its stream. */
async function stream(
  exporter: ExporterProcess,
  query: string,
  variables: Record<string, unknown>,
  options: { signal?: AbortSignal; headers?: Record<string, string> } = {},
): Promise<SseReader> {
  const response = await subscribe(exporter, query, variables, options);
  assert.equal(response.status, 200, await errorText(response));
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  assert.ok(response.body);
  return new SseReader(response.body);
}

/**
 * A subscriber that never reads: a raw request whose response is paused once
 * its headers are in, so that the socket is not drained. Its selection is fat
 * (about 2 KB an event): the connection's buffers (the kernel's, both sides)
 * fill within a few thousand events, and its queue after them.
 */
async function stalledSubscriber(
  exporter: ExporterProcess,
  node: string,
  headers: Record<string, string> = {},
): Promise<IncomingMessage> {
  const fields = Array.from({ length: 24 }, (_, i) => `p${i}: pubkey`).join(' ');
  const body = JSON.stringify({
    query: `subscription ($node: String) { peerEvents(node: $node) { ${fields} type time flapCount } }`,
    variables: { node },
  });
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest(
      `${exporter.url}/graphql`,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          accept: 'text/event-stream',
          'content-length': Buffer.byteLength(body),
        },
      },
      resolve,
    );
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(response.statusCode, 200);
  response.pause();
  return response;
}

/** The body of a response that should not have been an error, for the assertion message. */
async function errorText(response: Response): Promise<string> {
  return response.status === 200 ? '' : await response.clone().text();
}

describe('e2e: GraphQL subscriptions over server-sent events', function () {
  this.timeout(120_000);

  describe('a client reading its stream', () => {
    const prefix = randomToken('subs');
    const node = randomToken('node');
    const other = randomToken('other');
    let exporter: ExporterProcess;
    let publisher: Publisher;

    before(async () => {
      exporter = await startExporter({ prefix, args: ['--log.level=info'] });
      publisher = await Publisher.connect(prefix);
    });
    after(async () => {
      await publisher.close();
      await exporter.dispose();
    });

    it('gets exactly the events published for its peer, with their flap counts, and channelEvents the opens and closes', async () => {
      const p1 = randomPubkey();
      const p2 = randomPubkey();
      const cp1 = randomChannelPoint(1);
      const cp2 = randomChannelPoint(2);
      // The node is not tracked yet: the subscriptions wait for it.
      const peerStream = await stream(exporter, PEER_EVENTS, { node, peer: p1 });
      const channelStream = await stream(exporter, CHANNEL_EVENTS, { node });
      const t0 = Date.now() - HOUR;
      const at = (minutes: number): number => t0 + minutes * MINUTE;

      publisher.peer(node, peerEventJson(p1, true, at(0)));
      publisher.channel(node, openChannelJson(p1, cp1, at(1)));
      publisher.channel(node, openChannelJson(p2, cp2, at(1)));
      publisher.peer(node, peerEventJson(p2, true, at(2)));
      publisher.peer(node, peerEventJson(p1, false, at(3)));
      publisher.peer(node, peerEventJson(p1, true, at(4)));
      // Another node's events for the same peer are not this subscription's.
      publisher.peer(other, peerEventJson(p1, false, at(4)));
      publisher.peer(node, peerEventJson(p2, false, at(5)));
      // Late: applied at the peer's latest time.
      publisher.peer(node, peerEventJson(p1, false, at(2)));
      publisher.channel(node, closedChannelJson(p1, cp1, at(6)));
      publisher.peer(node, peerEventJson(p1, true, at(7)));
      await publisher.flush();

      const peerEvents: PeerEventJson[] = [];
      for (let i = 0; i < 5; i++) {
        const result = await peerStream.nextResult<Result<{ peerEvents: PeerEventJson }>>(10_000);
        assert.equal(result.errors, undefined, JSON.stringify(result));
        peerEvents.push(result.data!.peerEvents);
      }
      const base = { node, pubkey: p1 };
      assert.deepEqual(peerEvents, [
        // Before its first channel: not monitored, no flap.
        {
          ...base,
          type: 'PEER_ONLINE',
          time: iso(at(0)),
          reordered: false,
          tracked: false,
          flapCount: null,
        },
        // The open counted one flap (the monitor's creation).
        {
          ...base,
          type: 'PEER_OFFLINE',
          time: iso(at(3)),
          reordered: false,
          tracked: true,
          flapCount: 2,
        },
        {
          ...base,
          type: 'PEER_ONLINE',
          time: iso(at(4)),
          reordered: false,
          tracked: true,
          flapCount: 3,
        },
        {
          ...base,
          type: 'PEER_OFFLINE',
          time: iso(at(4)),
          reordered: true,
          tracked: true,
          flapCount: 4,
        },
        {
          ...base,
          type: 'PEER_ONLINE',
          time: iso(at(7)),
          reordered: false,
          tracked: true,
          flapCount: 5,
        },
      ]);

      const channelEvents: ChannelEventJson[] = [];
      for (let i = 0; i < 3; i++) {
        const result =
          await channelStream.nextResult<Result<{ channelEvents: ChannelEventJson }>>(10_000);
        channelEvents.push(result.data!.channelEvents);
      }
      // In order for each peer; one peer's events may pass another's while the first
      // events of a new peer wait for its persisted record to be read.
      const ofPeer = (pk: string): ChannelEventJson[] =>
        channelEvents.filter((e) => e.pubkey === pk);
      assert.deepEqual(
        [...ofPeer(p1), ...ofPeer(p2)],
        [
          {
            node,
            pubkey: p1,
            channelPoint: cp1,
            type: 'OPEN_CHANNEL',
            time: iso(at(1)),
            flapCount: 1,
          },
          {
            node,
            pubkey: p1,
            channelPoint: cp1,
            type: 'CLOSED_CHANNEL',
            time: iso(at(6)),
            flapCount: 4,
          },
          {
            node,
            pubkey: p2,
            channelPoint: cp2,
            type: 'OPEN_CHANNEL',
            time: iso(at(1)),
            flapCount: 1,
          },
        ],
      );

      // Exactly those: the next event of each stream is the next one published.
      publisher.channel(node, openChannelJson(p2, cp1, at(8)));
      publisher.peer(node, peerEventJson(p1, false, at(9)));
      await publisher.flush();
      const nextPeer = await peerStream.nextResult<Result<{ peerEvents: PeerEventJson }>>(10_000);
      assert.equal(nextPeer.data?.peerEvents.time, iso(at(9)));
      const nextChannel =
        await channelStream.nextResult<Result<{ channelEvents: ChannelEventJson }>>(10_000);
      const reopened = nextChannel.data?.channelEvents;
      assert.deepEqual([reopened?.channelPoint, reopened?.pubkey], [cp1, p2]);
      await peerStream.cancel();
      await channelStream.cancel();
    });
  });

  describe('a client that subscribes and never reads', () => {
    const prefix = randomToken('stall');
    const node = randomToken('node');
    const peer = randomPubkey();
    const EVENTS = 50_000;
    let exporter: ExporterProcess;
    let publisher: Publisher;
    let published = 0;
    /** Event times: one a second over three runs, ending well before now (5 minutes ahead is refused). */
    const t0 = Date.now() - 4 * EVENTS * SECOND - HOUR;

    before(async () => {
      exporter = await startExporter({ prefix, args: ['--log.level=info'] });
      publisher = await Publisher.connect(prefix);
      // A monitored peer: every event counts a flap, as in production.
      publisher.channel(node, openChannelJson(peer, randomChannelPoint(), t0));
      await eventually(async () => (await appliedEvents(exporter, node)) === 1, 'the open applied');
    });
    after(async () => {
      await publisher.close();
      await exporter.dispose();
    });

    /** Publishes EVENTS peer events; resolves with the ms until all are applied. */
    async function publishAndTime(): Promise<number> {
      const before = await appliedEvents(exporter, node);
      const started = performance.now();
      for (let i = 0; i < EVENTS; i++) {
        published += 1;
        publisher.peer(node, peerEventJson(peer, published % 2 === 1, t0 + published * SECOND));
        // Let the client write now and then, as a busy bridge does.
        if (i % 5_000 === 4_999) await publisher.flush();
      }
      await publisher.flush();
      await pollUntil(
        () => appliedEvents(exporter, node),
        (applied) => applied === before + EVENTS,
        `${EVENTS} events applied`,
        { limitMs: 60_000, everyMs: 50 },
      );
      return performance.now() - started;
    }

    it('does not slow ingestion: the events are applied as fast, the client is dropped, /healthz answers within 500 ms', async () => {
      // Warm up (the exporter's code, the NATS connection), then the time without a subscriber.
      await publishAndTime();
      const baseline = await publishAndTime();

      // Throughout: from the subscription to the end of its stream.
      const health = new HealthWatch(exporter.url);
      const stalled = await stalledSubscriber(exporter, node);
      let ended = false;
      stalled.on('close', () => {
        ended = true;
      });

      const withStalled = await publishAndTime();

      const dropped = await exporter.waitForLog(
        (line) => line.msg === 'GraphQL subscriber dropped: it read its events too slowly',
        5_000,
      );
      assert.equal(dropped.subscription, 'peerEvents');
      assert.equal(dropped.node, node);
      // Generous: a shared machine's timings vary; a blocked or buffering hub would not pass.
      assert.ok(
        withStalled < baseline * 2 + 2_000,
        `${EVENTS} events took ${withStalled.toFixed(0)} ms with a stalled subscriber, ` +
          `${baseline.toFixed(0)} ms without`,
      );

      // Read now: what its connection held, then the error, then the end.
      stalled.setEncoding('utf8');
      let text = '';
      stalled.on('data', (chunk: string) => {
        text += chunk;
      });
      stalled.resume();
      await eventually(() => ended, 'the stalled stream to end', 20_000);
      const events = text.split('\n\n').filter((block) => block.startsWith('event: next'));
      assert.ok(
        events.length < EVENTS / 2,
        `${events.length} events were written to a client that did not read`,
      );
      const last = JSON.parse(
        events.at(-1)!.replace(/^event: next\ndata: /, ''),
      ) as Result<unknown>;
      assert.equal(last.errors?.[0]?.extensions?.code, 'SUBSCRIBER_TOO_SLOW', events.at(-1));
      assert.match(text, /event: complete\n/);
      await health.stop(3);
      const errors = exporter.logs().filter((line) => Number(line.level) >= 50);
      assert.deepEqual(errors, [], 'no error-level line');
    });
  });

  describe('the number of subscriptions, the Accept header and authentication', () => {
    const prefix = randomToken('subcap');
    const node = randomToken('node');
    const token = randomToken('token');
    const auth = { authorization: `Bearer ${token}` };
    let exporter: ExporterProcess;
    let publisher: Publisher;

    before(async () => {
      exporter = await startExporter({
        prefix,
        args: ['--log.level=info', '--graphql.max-subscriptions=2'],
        env: { WEB_BEARER_TOKEN: token },
      });
      publisher = await Publisher.connect(prefix);
    });
    after(async () => {
      await publisher.close();
      await exporter.dispose();
    });

    it('refuses a subscription without the bearer token 401, and serves one with it', async () => {
      const refused = await subscribe(exporter, PEER_EVENTS, { node });
      assert.equal(refused.status, 401);
      await refused.body?.cancel();
      const served = await stream(exporter, PEER_EVENTS, { node }, { headers: auth });
      const peer = randomPubkey();
      publisher.peer(node, peerEventJson(peer, true, Date.now() - MINUTE));
      const result = await served.nextResult<Result<{ peerEvents: PeerEventJson }>>(10_000);
      assert.equal(result.data?.peerEvents.pubkey, peer);
      await served.cancel();
    });

    it('answers a subscription asked for as JSON 406 EVENT_STREAM_REQUIRED', async () => {
      const response = await subscribe(
        exporter,
        PEER_EVENTS,
        { node },
        { headers: { ...auth, accept: 'application/json' } },
      );
      assert.equal(response.status, 406);
      const body = (await response.json()) as Result<unknown>;
      assert.equal(body.errors?.[0]?.extensions?.code, 'EVENT_STREAM_REQUIRED');
      assert.match(body.errors[0].message, /Accept: text\/event-stream/);
    });

    it('holds the place of a dropped client that never reads for 10 s, then cuts it', async () => {
      const stallNode = randomToken('stall');
      const peer = randomPubkey();
      const t0 = Date.now() - 2 * HOUR;
      // The node tracked first: the events held during its first bootstrap, applied at once,
      // would drop the subscriber before its connection's buffers are full, and its error
      // would then reach it (ending its stream) at once.
      publisher.peer(stallNode, peerEventJson(peer, true, t0));
      await eventually(async () => {
        const response = await fetch(`${exporter.url}/graphql`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ nodes { id } }' }),
        });
        const body = (await response.json()) as Result<{ nodes: { id: string }[] }>;
        return body.data?.nodes.some((n) => n.id === stallNode) ?? false;
      }, 'the node tracked');
      const stalled = await stalledSubscriber(exporter, stallNode, auth);
      // Paced, so that the exporter writes every event until the connection's buffers are
      // full: only then does its queue fill, and the error has no room left to be written.
      const isDropped = (line: Record<string, unknown>): boolean =>
        line.msg === 'GraphQL subscriber dropped: it read its events too slowly' &&
        line.node === stallNode;
      for (let i = 1; i <= 40_000 && !exporter.logs().some(isDropped); i++) {
        publisher.peer(stallNode, peerEventJson(peer, i % 2 === 0, t0 + i * 100));
        if (i % 100 === 0) {
          await publisher.flush();
          await delay(10);
        }
      }
      await exporter.waitForLog(isDropped, 5_000);
      const droppedAt = performance.now();
      // Its stream has not ended (its client has not taken the error): it still counts.
      const one = new AbortController();
      await stream(exporter, CHANNEL_EVENTS, { node }, { headers: auth, signal: one.signal });
      const refused = await subscribe(exporter, PEER_EVENTS, { node }, { headers: auth });
      assert.equal(refused.status, 503);
      await refused.text();
      // Cut after the grace: the place is free again.
      let freedAfter: number | undefined;
      const two = new AbortController();
      while (freedAfter === undefined && performance.now() - droppedAt < 20_000) {
        const response = await subscribe(
          exporter,
          PEER_EVENTS,
          { node },
          { headers: auth, signal: two.signal },
        );
        if (response.status === 200) freedAfter = performance.now() - droppedAt;
        else {
          await response.text();
          await delay(250);
        }
      }
      assert.ok(freedAfter !== undefined, 'the place was never freed');
      assert.ok(freedAfter > 8_000 && freedAfter < 14_000, `freed after ${freedAfter} ms`);
      one.abort();
      two.abort();
      stalled.destroy();
      const errors = exporter.logs().filter((line) => Number(line.level) >= 50);
      assert.deepEqual(errors, [], 'no error-level line');
    });

    it('refuses a subscription past --graphql.max-subscriptions 503 TOO_MANY_SUBSCRIPTIONS, until one leaves', async () => {
      // The previous tests' streams were let go: wait until the exporter has seen them close.
      const first = new AbortController();
      const a = await pollUntil(
        () => subscribe(exporter, PEER_EVENTS, { node }, { headers: auth, signal: first.signal }),
        (response) => response.status === 200,
        'a free place',
      );
      assert.equal(a.status, 200);
      const b = await stream(exporter, CHANNEL_EVENTS, { node }, { headers: auth });
      const refused = await subscribe(exporter, PEER_EVENTS, { node }, { headers: auth });
      assert.equal(refused.status, 503);
      const error = await new SseReader(refused.body!).nextResult<Result<unknown>>();
      assert.equal(error.errors?.[0]?.extensions?.code, 'TOO_MANY_SUBSCRIPTIONS');
      assert.match(error.errors[0].message, /--graphql\.max-subscriptions/);
      // Queries are not subscriptions: still answered.
      const queried = await fetch(`${exporter.url}/graphql`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ nodes { id } }' }),
      });
      assert.equal(queried.status, 200);
      // A client leaves: its place is free again.
      first.abort();
      const again = await pollUntil(
        () => subscribe(exporter, PEER_EVENTS, { node }, { headers: auth }),
        (response) => response.status === 200,
        'the place of the client that left',
      );
      assert.equal(again.status, 200);

      // Stopping ends the open streams with complete, and the exporter exits at once.
      const c = new SseReader(again.body!);
      const started = performance.now();
      const stopped = exporter.stop();
      for (const reader of [b, c]) {
        let event = await reader.next(10_000);
        while (event !== undefined && event.event !== 'complete') event = await reader.next(10_000);
        assert.equal(event?.event, 'complete');
      }
      assert.deepEqual(await stopped, { code: 0, signal: null });
      assert.ok(performance.now() - started < 5_000);
    });
  });
});

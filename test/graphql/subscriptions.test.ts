import assert from 'node:assert/strict';
import { EventHub, hubObserver } from '../../src/graphql/event-hub.js';
import type { GraphQLLimits } from '../../src/graphql/limits.js';
import { createGraphQLServer, type GraphQLServer } from '../../src/graphql/server.js';
import { RecordGate, type NodeRecordGate } from '../../src/ingest/record-gate.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { NodeStores } from '../../src/store/node-stores.js';
import { captureLogger } from '../support/log-capture.js';
import { SseReader } from '../support/sse.js';
import { channelPoint, iso, MINUTE, pubkey, SECOND, T0, type GraphQLErrorJson } from './harness.js';
import { TestClock } from '../support/test-clock.js';

interface Result<T> {
  readonly data?: T | null;
  readonly errors?: GraphQLErrorJson[];
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
  readonly reordered: boolean;
  readonly flapCount: number;
}

const PEER_EVENTS = `subscription ($node: String, $peer: String) {
  peerEvents(node: $node, peer: $peer) { node pubkey type time reordered tracked flapCount }
}`;
const CHANNEL_EVENTS = `subscription ($node: String) {
  channelEvents(node: $node) { node pubkey channelPoint type time reordered flapCount }
}`;

interface SetupOptions {
  readonly maxSubscriptions?: number;
  readonly queueSize?: number;
  readonly limits?: Partial<GraphQLLimits>;
  readonly jit?: boolean;
}

/** Stores fed to a hub through their observers, as the app wires them, and the GraphQL server. */
class Setup {
  readonly clock = new TestClock(T0);
  readonly hub: EventHub;
  readonly stores: NodeStores;
  /** What events go through, as the ingest submits them (no record is persisted here). */
  readonly gate = new RecordGate({ read: () => Promise.resolve(undefined) });
  readonly server: GraphQLServer;
  readonly dropped: unknown[] = [];

  constructor(options: SetupOptions = {}) {
    this.hub = new EventHub({
      maxSubscriptions: options.maxSubscriptions ?? 10,
      queueSize: options.queueSize ?? 100,
      dropped: (info) => this.dropped.push(info),
    });
    this.stores = new NodeStores(
      (node) =>
        new ChannelEventStore({
          node,
          clock: this.clock,
          observer: hubObserver(node, this.hub),
        }),
    );
    this.server = createGraphQLServer({
      stores: this.stores,
      clock: this.clock,
      readPersistedFlapRecord: () => Promise.resolve(undefined),
      logger: captureLogger().logger,
      introspection: true,
      graphiql: false,
      events: this.hub,
      limits: options.limits,
      jit: options.jit,
    });
  }

  store(node = 'alice'): ChannelEventStore {
    return this.stores.getOrCreate(node);
  }

  /** The gate of a node's store: its events go through it. */
  events(node = 'alice'): NodeRecordGate {
    return this.gate.of(this.store(node));
  }

  /** Resolves once every event submitted through the gate is applied. */
  idle(): Promise<void> {
    return this.gate.idle();
  }

  async open(pk: string, cp: string, time: number, node = 'alice'): Promise<void> {
    this.events(node).openChannel(pk, cp, time);
    await this.idle();
  }

  async request(
    query: string,
    variables: Record<string, unknown> = {},
    init: { accept?: string | null; method?: 'GET' | 'POST'; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    const accept = init.accept === undefined ? 'text/event-stream' : init.accept;
    if (accept !== null) headers.accept = accept;
    if (init.method === 'GET') {
      const params = new URLSearchParams({ query, variables: JSON.stringify(variables) });
      return await this.server.fetch(`http://localhost/graphql?${params.toString()}`, {
        headers,
        signal: init.signal,
      });
    }
    return await this.server.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
      signal: init.signal,
    });
  }

  /** A subscription that must start: its event stream. */
  async subscribe(query: string, variables: Record<string, unknown> = {}): Promise<SseReader> {
    const response = await this.request(query, variables);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.ok(response.body);
    const sse = new SseReader(response.body);
    // The subscription is in place once the hub counts it.
    await waitFor(() => this.hub.open > 0);
    return sse;
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const P1 = pubkey(1);
const P2 = pubkey(2);
const CP1 = channelPoint(1);
const CP2 = channelPoint(2);

describe('GraphQL subscriptions (in process)', () => {
  for (const jit of [true, false]) {
    describe(jit ? 'compiled by graphql-jit' : 'on graphql-js', () => {
      it("peerEvents of one peer gets that peer's events, as applied, with its flap count", async () => {
        const s = new Setup({ jit });
        await s.open(P1, CP1, T0);
        await s.open(P2, CP2, T0);
        const sse = await s.subscribe(PEER_EVENTS, { node: 'alice', peer: P1 });
        const store = s.store();
        store.peerEvent(P2, true, T0 + SECOND);
        store.peerEvent(P1, true, T0 + 2 * SECOND);
        store.peerEvent(P1, false, T0 + 3 * SECOND);
        // Older than the peer's latest: applied at the latest time.
        store.peerEvent(P1, true, T0 + SECOND);
        const events: PeerEventJson[] = [];
        for (let i = 0; i < 3; i++) {
          const result = await sse.nextResult<Result<{ peerEvents: PeerEventJson }>>();
          assert.equal(result.errors, undefined);
          events.push(result.data!.peerEvents);
        }
        const base = { node: 'alice', pubkey: P1, tracked: true };
        assert.deepEqual(events, [
          // The open counted one flap (monitor creation), each event one more.
          {
            ...base,
            type: 'PEER_ONLINE',
            time: iso(T0 + 2 * SECOND),
            reordered: false,
            flapCount: 2,
          },
          {
            ...base,
            type: 'PEER_OFFLINE',
            time: iso(T0 + 3 * SECOND),
            reordered: false,
            flapCount: 3,
          },
          {
            ...base,
            type: 'PEER_ONLINE',
            time: iso(T0 + 3 * SECOND),
            reordered: true,
            flapCount: 4,
          },
        ]);
        assert.equal(store.peer(P1)?.flapCount, 4);
        await sse.cancel();
      });

      it('channelEvents gets opens and closes with the flap count, not what changed nothing', async () => {
        const s = new Setup({ jit });
        const sse = await s.subscribe(CHANNEL_EVENTS, { node: 'alice' });
        await s.open(P1, CP1, T0);
        await s.open(P1, CP2, T0 + MINUTE);
        // A repeated open and a close of an unknown channel change nothing.
        await s.open(P2, CP1, T0 + MINUTE);
        s.events().closeChannel(P1, channelPoint(9), T0 + MINUTE);
        s.events().closeChannel(P1, CP1, T0 + 2 * MINUTE);
        const events: ChannelEventJson[] = [];
        for (let i = 0; i < 3; i++) {
          const result = await sse.nextResult<Result<{ channelEvents: ChannelEventJson }>>();
          events.push(result.data!.channelEvents);
        }
        const base = { node: 'alice', pubkey: P1, reordered: false, flapCount: 1 };
        assert.deepEqual(events, [
          { ...base, channelPoint: CP1, type: 'OPEN_CHANNEL', time: iso(T0) },
          { ...base, channelPoint: CP2, type: 'OPEN_CHANNEL', time: iso(T0 + MINUTE) },
          { ...base, channelPoint: CP1, type: 'CLOSED_CHANNEL', time: iso(T0 + 2 * MINUTE) },
        ]);
        await sse.cancel();
      });
    });
  }

  it("sends an unmonitored peer's events with tracked false and no flap count", async () => {
    const s = new Setup();
    const sse = await s.subscribe(PEER_EVENTS);
    s.events('bob').peerEvent(P1, true, T0);
    const result = await sse.nextResult<Result<{ peerEvents: PeerEventJson }>>();
    assert.deepEqual(result.data?.peerEvents, {
      node: 'bob',
      pubkey: P1,
      type: 'PEER_ONLINE',
      time: iso(T0),
      reordered: false,
      tracked: false,
      flapCount: null,
    });
    await sse.cancel();
  });

  it('filters by node, and takes a node not tracked yet: its events come once it appears', async () => {
    const s = new Setup();
    assert.equal(s.stores.get('carol'), undefined);
    const carol = await s.subscribe(PEER_EVENTS, { node: 'carol' });
    s.events('alice').peerEvent(P1, true, T0);
    s.events('carol').peerEvent(P2, true, T0 + SECOND);
    const result = await carol.nextResult<Result<{ peerEvents: PeerEventJson }>>();
    const event = result.data?.peerEvents;
    assert.deepEqual([event?.node, event?.pubkey], ['carol', P2]);
    await carol.cancel();
  });

  it('takes the peer in upper case, as the queries do', async () => {
    const s = new Setup();
    const sse = await s.subscribe(PEER_EVENTS, { peer: P1.toUpperCase() });
    s.events().peerEvent(P2, true, T0);
    s.events().peerEvent(P1, true, T0);
    const result = await sse.nextResult<Result<{ peerEvents: PeerEventJson }>>();
    assert.equal(result.data?.peerEvents.pubkey, P1);
    await sse.cancel();
  });

  it('refuses a malformed peer 400 BAD_USER_INPUT, taking no place', async () => {
    const s = new Setup();
    const response = await s.request(PEER_EVENTS, { peer: '02abc' });
    assert.equal(response.status, 400);
    const sse = new SseReader(response.body!);
    const result = await sse.nextResult<Result<unknown>>();
    assert.equal(result.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(result.errors[0].message, /peer must be a 33-byte compressed public key/);
    assert.equal((await sse.next())?.event, 'complete');
    assert.equal(s.hub.open, 0);
  });

  it('refuses a subscription past --graphql.max-subscriptions with 503 TOO_MANY_SUBSCRIPTIONS, and frees a place when a client leaves', async () => {
    const s = new Setup({ maxSubscriptions: 2 });
    const first = new AbortController();
    const others = new AbortController();
    const a = await s.request(PEER_EVENTS, {}, { signal: first.signal });
    const b = await s.request(CHANNEL_EVENTS, {}, { signal: others.signal });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(s.hub.open, 2);
    const refused = await s.request(PEER_EVENTS);
    assert.equal(refused.status, 503);
    const result = await new SseReader(refused.body!).nextResult<Result<unknown>>();
    assert.equal(result.errors?.[0]?.extensions?.code, 'TOO_MANY_SUBSCRIPTIONS');
    assert.match(
      result.errors[0].message,
      /--graphql\.max-subscriptions \(GRAPHQL_MAX_SUBSCRIPTIONS\)/,
    );
    first.abort();
    await waitFor(() => s.hub.open === 1);
    const again = await s.request(PEER_EVENTS, {}, { signal: others.signal });
    assert.equal(again.status, 200);
    others.abort();
    await waitFor(() => s.hub.open === 0);
  });

  it('drops a subscriber that does not read, its stream ending with SUBSCRIBER_TOO_SLOW', async () => {
    const s = new Setup({ queueSize: 5 });
    await s.open(P1, CP1, T0);
    const sse = await s.subscribe(PEER_EVENTS);
    // Not read: the queue takes 5 events, then the hub drops the stream and lets them go.
    for (let i = 1; i <= 20; i++) s.events().peerEvent(P1, i % 2 === 0, T0 + i * SECOND);
    assert.equal(s.hub.dropped, 1);
    assert.equal(s.dropped.length, 1);
    const received: PeerEventJson[] = [];
    let last: Result<unknown> | undefined;
    for (;;) {
      const result = await sse.nextResult<Result<{ peerEvents: PeerEventJson }>>();
      if (result.errors !== undefined) {
        last = result;
        break;
      }
      received.push(result.data!.peerEvents);
    }
    // At most what yoga's stream took before the queue filled: the first events, in order.
    assert.ok(received.length <= 2, `${received.length} events`);
    assert.deepEqual(
      received.map((e) => e.time),
      received.map((_, i) => iso(T0 + (i + 1) * SECOND)),
    );
    assert.equal(last.errors?.[0]?.extensions?.code, 'SUBSCRIBER_TOO_SLOW');
    assert.match(last.errors[0].message, /read its events too slowly/);
    assert.equal((await sse.next())?.event, 'complete');
    assert.equal(await sse.next(), undefined);
    await waitFor(() => s.hub.open === 0);
    // Events after the drop cost it nothing.
    s.events().peerEvent(P1, true, T0 + MINUTE);
    assert.equal(s.hub.dropped, 1);
  });

  it('ends every stream with complete when the hub closes (the exporter stops)', async () => {
    const s = new Setup();
    const sse = await s.subscribe(CHANNEL_EVENTS);
    s.hub.close();
    assert.equal((await sse.next())?.event, 'complete');
    assert.equal(s.hub.open, 0);
  });

  it('answers by GET with Accept: text/event-stream, and without an Accept header', async () => {
    const s = new Setup();
    const get = await s.request(PEER_EVENTS, {}, { method: 'GET' });
    assert.equal(get.status, 200);
    assert.match(get.headers.get('content-type') ?? '', /^text\/event-stream/);
    const bare = await s.request(PEER_EVENTS, {}, { accept: null });
    assert.equal(bare.status, 200);
    assert.match(bare.headers.get('content-type') ?? '', /^text\/event-stream/);
    await waitFor(() => s.hub.open === 2);
    s.events().peerEvent(P1, true, T0);
    for (const response of [get, bare]) {
      const result = await new SseReader(response.body!).nextResult<
        Result<{ peerEvents: PeerEventJson }>
      >();
      assert.equal(result.data?.peerEvents.pubkey, P1);
      await response.body?.cancel().catch(() => undefined);
    }
  });

  for (const accept of ['application/json', 'application/graphql-response+json']) {
    it(`refuses a subscription accepting only ${accept} with 406 EVENT_STREAM_REQUIRED`, async () => {
      const s = new Setup();
      const response = await s.request(PEER_EVENTS, {}, { accept });
      assert.equal(response.status, 406);
      const body = (await response.json()) as Result<unknown>;
      assert.equal(body.errors?.length, 1);
      assert.equal(body.errors[0]!.extensions?.code, 'EVENT_STREAM_REQUIRED');
      assert.match(body.errors[0]!.message, /Accept: text\/event-stream/);
      assert.equal(s.hub.open, 0);
    });
  }

  it('refuses a subscription accepting only multipart/mixed with 406 (no JSON body it accepts)', async () => {
    const s = new Setup();
    const response = await s.request(PEER_EVENTS, {}, { accept: 'multipart/mixed' });
    assert.equal(response.status, 406);
    assert.equal(s.hub.open, 0);
  });

  it('applies the depth and cost limits to subscription documents', async () => {
    const depth = new Setup({ limits: { maxDepth: 1 } });
    const deep = await depth.request(
      'subscription { peerEvents { pubkey } }',
      {},
      {
        accept: 'application/graphql-response+json, text/event-stream',
      },
    );
    assert.equal(deep.status, 400);
    const deepBody = (await deep.json()) as Result<unknown>;
    assert.equal(deepBody.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
    assert.match(deepBody.errors[0].message, /--graphql\.max-depth/);

    const cost = new Setup({ limits: { maxCost: 20 } });
    const fields = Array.from({ length: 30 }, (_, i) => `f${i}: pubkey`).join(' ');
    const costly = await cost.request(
      `subscription { peerEvents { ${fields} } }`,
      {},
      {
        accept: 'application/graphql-response+json, text/event-stream',
      },
    );
    assert.equal(costly.status, 400);
    const costlyBody = (await costly.json()) as Result<unknown>;
    assert.equal(costlyBody.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
    assert.match(costlyBody.errors[0].message, /--graphql\.max-cost/);
    assert.equal(depth.hub.open + cost.hub.open, 0);
  });

  it('still refuses mutations', async () => {
    const s = new Setup();
    const response = await s.server.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ query: 'mutation { x }' }),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as Result<unknown>;
    assert.equal(body.errors?.[0]?.extensions?.code, 'OPERATION_NOT_SUPPORTED');
  });
});

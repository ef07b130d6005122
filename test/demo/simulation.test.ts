import assert from 'node:assert/strict';
import { decodeChannelEvent } from '../../src/lnd/decode-channel-event.js';
import { decodePeerEvent } from '../../src/lnd/decode-peer-event.js';
import { decodeListChannels, decodeListPeers } from '../../src/lnd/decode-rpc.js';
import { isPubkeyHex } from '../../src/lnd/pubkey.js';
import { canonicalChannelPoint } from '../../src/lnd/channel-point.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import {
  DemoSimulation,
  type DemoMessage,
  type NodeSimulation,
} from '../../scripts/demo/simulation.js';

const HOUR = 3_600_000;
const START = Date.UTC(2024, 4, 1);
const UNTIL = START + 12 * HOUR;

/** The messages of one node fed through the decoders into a real store, as the exporter would. */
interface Replay {
  readonly node: NodeSimulation;
  readonly messages: DemoMessage[];
  readonly store: ChannelEventStore;
  readonly rejections: string[];
  readonly typeCounts: Map<string, number>;
}

function replay(seed: number, until: number): Replay {
  const simulation = new DemoSimulation({ nodes: ['demo'], seed, start: START });
  const node = simulation.nodes[0]!;
  let now = START;
  const rejections: string[] = [];
  const store = new ChannelEventStore({
    node: 'demo',
    clock: { now: () => now },
    observer: {
      rejected: (reason, _pubkey, _point, message) => rejections.push(`${reason}: ${message}`),
    },
  });
  const typeCounts = new Map<string, number>();
  const messages: DemoMessage[] = [];
  for (const message of simulation.messagesUntil(until)) {
    messages.push(message);
    now = message.time;
    typeCounts.set(message.type, (typeCounts.get(message.type) ?? 0) + 1);
    if (message.subject === 'peer_events') {
      const event = decodePeerEvent(message.payload);
      store.peerEvent(event.pubkey, event.type === 'PEER_ONLINE', event.timestamp ?? now);
      continue;
    }
    const event = decodeChannelEvent(message.payload);
    if (event.type === 'OPEN_CHANNEL') {
      store.openChannel(event.pubkey, event.channelPoint, event.timestamp ?? now);
    } else if (event.type === 'CLOSED_CHANNEL') {
      store.closeChannel(event.pubkey, event.channelPoint, event.timestamp ?? now);
    }
  }
  now = until;
  return { node, messages, store, rejections, typeCounts };
}

describe('demo simulation', () => {
  let run: Replay;
  before(() => {
    run = replay(1, UNTIL);
  });

  it('emits messages the exporter applies without rejection or reordering', () => {
    assert.ok(run.messages.length > 10_000, `only ${run.messages.length} messages`);
    assert.deepEqual(run.rejections, []);
    assert.equal(run.store.reorderedTotal, 0);
  });

  it('stamps every message with its event time, in order, never past the simulated now', () => {
    let previous = -Infinity;
    for (const message of run.messages) {
      const timestamp =
        message.subject === 'peer_events'
          ? decodePeerEvent(message.payload).timestamp
          : decodeChannelEvent(message.payload).timestamp;
      assert.ok(timestamp !== undefined && Math.abs(timestamp - message.time) < 1e-4);
      assert.ok(message.time >= previous && message.time <= UNTIL);
      previous = message.time;
    }
    assert.equal(run.node.time, UNTIL);
  });

  it('decodes every message to the type it announces', () => {
    for (const message of run.messages) {
      const decoded =
        message.subject === 'peer_events'
          ? decodePeerEvent(message.payload)
          : decodeChannelEvent(message.payload);
      assert.equal(decoded.type, message.type);
    }
  });

  it('sends messages both bare and wrapped as {"result": …}', () => {
    const wrapped = run.messages.filter((m) => m.payload.startsWith('{"result":')).length;
    assert.ok(wrapped > run.messages.length * 0.4 && wrapped < run.messages.length * 0.6);
  });

  it('uses every lnd channel event type but CHANNEL_UPDATE, and both peer types', () => {
    for (const type of [
      'OPEN_CHANNEL',
      'CLOSED_CHANNEL',
      'ACTIVE_CHANNEL',
      'INACTIVE_CHANNEL',
      'PENDING_OPEN_CHANNEL',
      'FULLY_RESOLVED_CHANNEL',
      'CHANNEL_FUNDING_TIMEOUT',
      'PEER_ONLINE',
      'PEER_OFFLINE',
    ]) {
      assert.ok((run.typeCounts.get(type) ?? 0) > 0, `no ${type}`);
    }
  });

  it('opens over a hundred channels in 12 simulated hours, and closes some', () => {
    assert.ok((run.typeCounts.get('OPEN_CHANNEL') ?? 0) > 100);
    assert.ok((run.typeCounts.get('CLOSED_CHANNEL') ?? 0) > 20);
    assert.ok(run.node.counts.open > 50);
  });

  it('has several channels with some peers and a channel with most', () => {
    const channelsPerPeer = run.node.peers().map((peer) => peer.openChannels);
    assert.ok(channelsPerPeer.filter((n) => n >= 3).length >= 3);
    assert.ok(channelsPerPeer.filter((n) => n > 0).length >= 30);
  });

  it('has 40 peers with valid pubkeys and every profile', () => {
    const peers = run.node.peers();
    assert.equal(peers.length, 40);
    assert.ok(peers.every((peer) => isPubkeyHex(peer.pubkey)));
    assert.deepEqual(
      new Set(peers.map((peer) => peer.profile)),
      new Set(['stable', 'flaky', 'mostly-offline', 'flapping', 'hyper-flapping']),
    );
  });

  it('drives the flapping peers past 200 flaps and the hyper-flapping ones past 1000 in the store', () => {
    for (const peer of run.node.peers()) {
      // A peer never monitored answers its persisted record: none here, so 0.
      const count = run.store.flapCount(peer.pubkey)?.count ?? 0;
      if (peer.profile === 'flapping') assert.ok(count > 200, `flapping peer at ${count}`);
      if (peer.profile === 'hyper-flapping') assert.ok(count > 1000, `hyper-flapper at ${count}`);
      if (peer.profile === 'stable') assert.ok(count < 50, `stable peer at ${count}`);
    }
  });

  it('answers list_channels with exactly the channels the store holds', () => {
    const listed = decodeListChannels(run.node.listChannelsReply());
    assert.equal(listed.skipped, 0);
    const inStore = [...run.store.channels()].map((c) => `${c.peer.pubkey} ${c.channelPoint}`);
    assert.deepEqual(
      listed.channels.map((c) => `${c.pubkey} ${c.channelPoint}`).sort(),
      inStore.sort(),
    );
    assert.ok(
      listed.channels.every((c) => canonicalChannelPoint(c.channelPoint) === c.channelPoint),
    );
  });

  it('answers list_peers with exactly the peers the store sees online', () => {
    const listed = decodeListPeers(run.node.listPeersReply());
    assert.equal(listed.skipped, 0);
    const online = run.node.peers().filter((peer) => run.store.connectivity(peer.pubkey));
    assert.deepEqual([...listed.peers].sort(), online.map((peer) => peer.pubkey).sort());
  });

  it('reports lnd-like lifetime and uptime in list_channels', () => {
    const reply = JSON.parse(run.node.listChannelsReply()) as {
      channels: { channel_point: string; lifetime: string; uptime: string }[];
    };
    for (const channel of reply.channels) {
      const view = run.store.channel(channel.channel_point)!;
      const lifetime = Number(channel.lifetime);
      const uptime = Number(channel.uptime);
      assert.equal(lifetime, Math.floor((UNTIL - view.openedAt) / 1000));
      assert.ok(uptime >= 0 && uptime <= lifetime);
    }
  });
});

describe('demo simulation determinism', () => {
  const payloads = (sim: DemoSimulation, until: number): string[] =>
    sim.advanceTo(until).map((m) => `${m.node} ${m.subject} ${m.payload}`);

  it('is the same for the same seed and start', () => {
    const a = payloads(
      new DemoSimulation({ nodes: ['demo'], seed: 42, start: START }),
      START + 2 * HOUR,
    );
    const b = payloads(
      new DemoSimulation({ nodes: ['demo'], seed: 42, start: START }),
      START + 2 * HOUR,
    );
    assert.ok(a.length > 1000);
    assert.deepEqual(a, b);
  });

  it('is the same whether advanced at once or in small steps', () => {
    const once = payloads(
      new DemoSimulation({ nodes: ['demo'], seed: 3, start: START }),
      START + HOUR,
    );
    const sim = new DemoSimulation({ nodes: ['demo'], seed: 3, start: START });
    const stepped: string[] = [];
    for (let t = START; t <= START + HOUR; t += 1234) stepped.push(...payloads(sim, t));
    stepped.push(...payloads(sim, START + HOUR));
    assert.deepEqual(stepped, once);
  });

  it('differs with the seed', () => {
    const a = payloads(
      new DemoSimulation({ nodes: ['demo'], seed: 1, start: START }),
      START + HOUR,
    );
    const b = payloads(
      new DemoSimulation({ nodes: ['demo'], seed: 2, start: START }),
      START + HOUR,
    );
    assert.notDeepEqual(a, b);
  });

  it("merges several nodes in time order without changing any node's own stream", () => {
    const alone = payloads(
      new DemoSimulation({ nodes: ['n1'], seed: 5, start: START }),
      START + HOUR,
    );
    const merged = new DemoSimulation({ nodes: ['n1', 'n2'], seed: 5, start: START }).advanceTo(
      START + HOUR,
    );
    assert.deepEqual(
      merged.filter((m) => m.node === 'n1').map((m) => `${m.node} ${m.subject} ${m.payload}`),
      alone,
    );
    assert.ok(merged.some((m) => m.node === 'n2'));
    assert.ok(merged.every((m, i) => i === 0 || m.time >= merged[i - 1]!.time));
    const pubkeys = (node: string) =>
      new Set(
        merged
          .filter((m) => m.node === node && m.subject === 'peer_events')
          .map((m) => decodePeerEvent(m.payload).pubkey),
      );
    const n1 = pubkeys('n1');
    assert.ok([...pubkeys('n2')].every((pk) => !n1.has(pk)));
  });

  it('honours smaller peer and channel counts', () => {
    const sim = new DemoSimulation({
      nodes: ['small'],
      seed: 9,
      start: START,
      peers: 5,
      channels: 6,
    });
    sim.advanceTo(START + 3 * HOUR);
    const node = sim.nodes[0]!;
    assert.equal(node.peers().length, 5);
    assert.ok(node.peers().some((peer) => peer.profile === 'hyper-flapping'));
    assert.ok(node.counts.open > 0 && node.counts.open <= 6);
  });
});

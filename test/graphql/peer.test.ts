import { strict as assert } from 'node:assert';
import { channelPoint, Harness, HOUR, iso, pubkey, T0 } from './harness.js';

const PEER = `query($pubkey: String!, $node: String) {
  peer(pubkey: $pubkey, node: $node) {
    node pubkey tracked online flapCount lastFlap
    channels { channelPoint }
  }
}`;

interface PeerJson {
  node: string;
  pubkey: string;
  tracked: boolean;
  online: boolean | null;
  flapCount: number;
  lastFlap: string | null;
  channels: { channelPoint: string }[];
}

async function peer(h: Harness, vars: Record<string, unknown>): Promise<PeerJson | null> {
  return (await h.data<{ peer: PeerJson | null }>(PEER, vars)).peer;
}

describe('GraphQL peer', () => {
  it('reads a monitored peer from memory, its channels by channel point', async () => {
    const h = new Harness();
    h.persisted.set(`alice:${pubkey(1)}`, { count: 10, lastFlap: T0 - HOUR });
    await h.open(pubkey(1), channelPoint(2), T0);
    await h.open(pubkey(1), channelPoint(1), T0);
    h.events().peerEvent(pubkey(1), true, T0 + HOUR);
    h.clock.set(T0 + 2 * HOUR);
    assert.deepEqual(await peer(h, { pubkey: pubkey(1) }), {
      node: 'alice',
      pubkey: pubkey(1),
      tracked: true,
      online: true,
      // 10 persisted, one at monitor creation, one online event.
      flapCount: 12,
      lastFlap: iso(T0 + HOUR),
      channels: [{ channelPoint: channelPoint(1) }, { channelPoint: channelPoint(2) }],
    });
  });

  it('accepts an upper-case pubkey', async () => {
    const h = new Harness();
    await h.open(pubkey(10), channelPoint(1), T0);
    const found = await peer(h, { pubkey: pubkey(10).toUpperCase() });
    assert.equal(found?.pubkey, pubkey(10));
  });

  it('reads a peer that is not monitored from its persisted record, with the node connectivity', async () => {
    const h = new Harness();
    h.persisted.set(`alice:${pubkey(2)}`, { count: 7, lastFlap: T0 - HOUR });
    h.events().peerEvent(pubkey(2), true, T0);
    assert.deepEqual(await peer(h, { pubkey: pubkey(2) }), {
      node: 'alice',
      pubkey: pubkey(2),
      tracked: false,
      online: true,
      flapCount: 7,
      lastFlap: iso(T0 - HOUR),
      channels: [],
    });
  });

  it('reads a persisted record of a node not seen since start, online unknown', async () => {
    const h = new Harness();
    h.persisted.set(`carol:${pubkey(3)}`, { count: 4, lastFlap: T0 - 2 * HOUR });
    assert.deepEqual(await peer(h, { pubkey: pubkey(3), node: 'carol' }), {
      node: 'carol',
      pubkey: pubkey(3),
      tracked: false,
      online: null,
      flapCount: 4,
      lastFlap: iso(T0 - 2 * HOUR),
      channels: [],
    });
  });

  it('is null without an error for a pubkey neither in memory nor persisted', async () => {
    const h = new Harness();
    h.events().peerEvent(pubkey(4), true, T0);
    const result = await h.query(PEER, { pubkey: pubkey(4) });
    assert.deepEqual(result, { status: 200, data: { peer: null } });
    const unknownNode = await h.query(PEER, { pubkey: pubkey(4), node: 'carol' });
    assert.deepEqual(unknownNode, { status: 200, data: { peer: null } });
  });

  it('refuses a pubkey that is not a compressed key', async () => {
    const h = new Harness();
    for (const bad of [
      '',
      '04' + 'a'.repeat(64),
      '02' + 'a'.repeat(63),
      '02' + 'g'.repeat(64),
      pubkey(1) + '00',
    ]) {
      assert.equal((await h.error(PEER, { pubkey: bad })).code, 'BAD_USER_INPUT', bad);
    }
  });

  it('needs node only while several nodes are tracked', async () => {
    const h = new Harness({ nodes: ['alice', 'bob'] });
    await h.open(pubkey(5), channelPoint(5), T0, 'bob');
    const error = await h.error(PEER, { pubkey: pubkey(5) });
    assert.equal(error.code, 'BAD_USER_INPUT');
    assert.match(error.message, /pass node/);
    assert.equal((await peer(h, { pubkey: pubkey(5), node: 'bob' }))?.tracked, true);
    assert.equal(await peer(h, { pubkey: pubkey(5), node: 'alice' }), null);
  });

  it('reaches a channel and back to its peer', async () => {
    const h = new Harness();
    await h.open(pubkey(6), channelPoint(6), T0);
    h.clock.set(T0 + HOUR);
    const data = await h.data<{
      channel: { peer: { channels: { lifetimeSeconds: number; peer: { pubkey: string } }[] } };
    }>(
      `{ channel(channelPoint: "${channelPoint(6)}") { peer { channels { lifetimeSeconds peer { pubkey } } } } }`,
    );
    assert.deepEqual(data.channel.peer.channels, [
      { lifetimeSeconds: 3600, peer: { pubkey: pubkey(6) } },
    ]);
  });
});

describe('GraphQL nodes', () => {
  it('lists tracked nodes by name with channel, monitored and online peer counts', async () => {
    const h = new Harness({ nodes: ['bob', 'alice'] });
    h.events('alice').peerEvent(pubkey(1), true, T0);
    await h.open(pubkey(1), channelPoint(1), T0, 'alice');
    await h.open(pubkey(1), channelPoint(2), T0, 'alice');
    await h.open(pubkey(2), channelPoint(3), T0, 'alice');
    // Online but without a channel: not monitored, not counted.
    h.events('alice').peerEvent(pubkey(3), true, T0);
    const { nodes } = await h.data<{ nodes: unknown[] }>(
      '{ nodes { id channelCount peerCount onlinePeerCount } }',
    );
    assert.deepEqual(nodes, [
      { id: 'alice', channelCount: 3, peerCount: 2, onlinePeerCount: 1 },
      { id: 'bob', channelCount: 0, peerCount: 0, onlinePeerCount: 0 },
    ]);
  });

  it('is empty while no node is tracked', async () => {
    const h = new Harness({ nodes: [] });
    assert.deepEqual(await h.data('{ nodes { id } }'), { nodes: [] });
  });
});

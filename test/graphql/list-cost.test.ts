import { strict as assert } from 'node:assert';
import { channelPoint, Harness, HOUR, iso, MINUTE, pubkey, SECOND, T0 } from './harness.js';

/** Opens n channels with one peer (outputs first..first+n-1 of one funding transaction). */
async function openMany(h: Harness, peer: number, n: number, first = 1): Promise<void> {
  for (let i = first; i < first + n; i++)
    h.events().openChannel(pubkey(peer), channelPoint(1, i), T0);
  await h.idle();
}

/**
 * n gaps of the node, 2 min 1 s each (lnd down 1 s, then the settle time),
 * 10 min apart, with the bridge's heartbeats between them (no silence).
 */
function manyGaps(h: Harness, n: number): void {
  for (let i = 0; i < n; i++) {
    const down = T0 + i * 10 * MINUTE;
    h.store().status(false, down);
    for (let t = down + SECOND; t < down + 10 * MINUTE; t += 30 * SECOND) {
      h.store().status(true, t);
    }
  }
  h.clock.set(T0 + n * 10 * MINUTE);
}

const PEER_CHANNELS = `{ peer(pubkey: "${pubkey(1)}") { channels { channelPoint } } }`;

describe('GraphQL cost of lists by their real size', () => {
  // Static cost: peer 2 + 1.5 * (channels (2 + 1.5 * 1) * 1) = 7.25. Each of the
  // other 299 channels adds its item (3.5) at depth 1 (times 1.5): 1569.75, 1577 in all.
  const exact = 7.25 + 299 * 3.5 * 1.5;

  for (const jit of [true, false]) {
    it(`counts Peer.channels as its 300 items, to the unit (jit ${jit})`, async () => {
      const over = new Harness({ deps: { jit, limits: { maxCost: exact - 1 } } });
      await openMany(over, 1, 300);
      const refused = await over.query(PEER_CHANNELS);
      assert.equal(refused.status, 400);
      assert.equal(refused.data, undefined, 'no part of the answer');
      const [error, ...others] = refused.errors ?? [];
      assert.deepEqual(others, []);
      assert.equal(error?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
      assert.match(
        error.message,
        /Query Cost limit of 1576 exceeded: Peer\.channels at peer\.channels has 300 items.*--graphql\.max-cost \(GRAPHQL_MAX_COST\)/,
      );

      const within = new Harness({ deps: { jit, limits: { maxCost: exact } } });
      await openMany(within, 1, 300);
      const data = await within.data<{ peer: { channels: unknown[] } }>(PEER_CHANNELS);
      assert.equal(data.peer.channels.length, 300);
    });

    it(`counts Node.gaps as its 300 items, to the unit (jit ${jit})`, async () => {
      // As Peer.channels: nodes (3.5 + 1.5 * gaps' 3.5 = 7.25), and 299 more gaps at depth 1.
      const GAPS = '{ nodes { gaps { start } } }';
      const over = new Harness({ deps: { jit, limits: { maxCost: exact - 1 } } });
      manyGaps(over, 300);
      const refused = await over.query(GAPS);
      assert.equal(refused.status, 400);
      assert.equal(refused.data, undefined, 'no part of the answer');
      const error = refused.errors?.[0];
      assert.equal(error?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
      assert.match(
        error.message,
        /Query Cost limit of 1576 exceeded: Node\.gaps at nodes\.0\.gaps has 300 items/,
      );

      const within = new Harness({ deps: { jit, limits: { maxCost: exact } } });
      manyGaps(within, 300);
      const data = await within.data<{ nodes: { gaps: unknown[] }[] }>(GAPS);
      assert.equal(data.nodes[0]?.gaps.length, 300);
    });

    it(`refuses a document it answered cheaply once the list grew (jit ${jit})`, async () => {
      const h = new Harness({ deps: { jit, limits: { maxCost: 1000 } } });
      await openMany(h, 1, 2);
      // Twice: the second answer comes from the compiled operation, when jit is on.
      await h.data(PEER_CHANNELS);
      await h.data(PEER_CHANNELS);
      await openMany(h, 1, 300, 3);
      const refused = await h.query(PEER_CHANNELS);
      assert.equal(refused.status, 400);
      assert.equal(refused.data, undefined);
    });
  }

  it('multiplies nested lists: the peer of each of 300 channels lists its 300 again', async () => {
    const h = new Harness();
    await openMany(h, 1, 300);
    // 300 items, then 300 lists of 300 at depth 3, then 300 * 300 lists at depth 5.
    const nested = `{ peer(pubkey: "${pubkey(1)}") { channels { peer { channels { peer { channels { channelPoint } } } } } } }`;
    const refused = await h.query(nested);
    assert.equal(refused.status, 400);
    assert.equal(refused.data, undefined);
    assert.match(
      refused.errors?.[0]?.message ?? '',
      /Peer\.channels at peer\.channels\.\d+\.peer\.channels(\.\d+\.peer\.channels)? has 300 items/,
    );
    // One level less (90,000 channel points) is also over the default limit of 100,000;
    // a single peer's list is not.
    assert.equal(
      (
        await h.query(
          `{ peer(pubkey: "${pubkey(1)}") { channels { peer { channels { channelPoint } } } } }`,
        )
      ).status,
      400,
    );
    assert.equal((await h.query(PEER_CHANNELS)).status, 200);
  });

  it('refuses pages whose peers list thousands of channels, however it is aliased', async () => {
    const h = new Harness();
    await openMany(h, 1, 2000);
    const page = 'channels(first: 1000) { nodes { peer { channels { channelPoint } } } }';
    const refused = await h.query(`{ a: ${page} b: ${page} c: ${page} }`);
    assert.equal(refused.status, 400);
    assert.equal(refused.data, undefined);
    // A page of the same channels without their peers' lists is answered.
    const data = await h.data<{ channels: { nodes: unknown[] } }>(
      '{ channels(first: 1000) { nodes { channelPoint peer { pubkey } } } }',
    );
    assert.equal(data.channels.nodes.length, 1000);
  });

  it('counts Channel.onlinePeriods by the events of its window', async () => {
    const h = new Harness({ deps: { limits: { maxCost: 2000 } } });
    await openMany(h, 1, 1);
    const store = h.store();
    // 1,000 flaps a minute apart: 500 online periods.
    for (let i = 0; i < 1000; i++)
      store.peerEvent(pubkey(1), i % 2 === 0, T0 + MINUTE + i * MINUTE);
    h.clock.set(T0 + 20 * HOUR);
    const all = `{ channel(channelPoint: "${channelPoint(1, 1)}") { onlinePeriods { start end } } }`;
    const refused = await h.query(all);
    assert.equal(refused.status, 400);
    assert.match(
      refused.errors?.[0]?.message ?? '',
      /Channel\.onlinePeriods at channel\.onlinePeriods has \d+ items/,
    );
    // From hour 16 on, the window holds about 40 events: well within the limit.
    const recent = `{ channel(channelPoint: "${channelPoint(1, 1)}") { onlinePeriods(from: "${new Date(T0 + 16 * HOUR).toISOString()}") { start } } }`;
    const data = await h.data<{ channel: { onlinePeriods: unknown[] } }>(recent);
    assert.ok(data.channel.onlinePeriods.length > 0);
  });

  it('counts Node.gaps by the gaps of its window', async () => {
    const h = new Harness({ deps: { limits: { maxCost: 2000 } } });
    manyGaps(h, 1000);
    const all = await h.query('{ nodes { gaps { start end reason } } }');
    assert.equal(all.status, 400);
    assert.match(all.errors?.[0]?.message ?? '', /Node\.gaps at nodes\.0\.gaps has 1000 items/);
    // The last 100 minutes hold 10 of them.
    const recent = await h.data<{ nodes: { gaps: unknown[] }[] }>(
      `{ nodes { gaps(from: "${iso(T0 + 9900 * MINUTE)}") { start end reason } } }`,
    );
    assert.equal(recent.nodes[0]?.gaps.length, 10);
  });

  it('counts Outages.periods as its first items, capped at 1000, whatever the periods', async () => {
    const h = new Harness({ deps: { limits: { maxCost: 7879 } } });
    await openMany(h, 1, 1);
    h.clock.set(T0 + HOUR);
    // peer 2 + 1.5 * (outages 2 + 1.5 * (periods (2 + 1.5 * 1) * 1000)) = 7880, over 7879
    // although the peer has a single outage: a page counts as its size.
    for (const first of [1000, 5000, 1_000_000]) {
      const refused = await h.query(
        `{ peer(pubkey: "${pubkey(1)}") { outages { periods(first: ${first}) { start } } } }`,
      );
      assert.equal(refused.status, 400, String(first));
      assert.match(
        refused.errors?.[0]?.message ?? '',
        /Query Cost limit of 7879 exceeded, found 7880/,
      );
    }
    const within = await h.data<{ peer: { outages: { periods: unknown[] } } }>(
      `{ peer(pubkey: "${pubkey(1)}") { outages { periods(first: 999) { start } } } }`,
    );
    assert.equal(within.peer.outages.periods.length, 1);
    // A page of peers with a page of periods each multiplies, as nested pages do.
    const pages = await new Harness().query(
      '{ peers(first: 1000) { nodes { outages { periods(first: 1000) { start end } } } } }',
    );
    assert.equal(pages.status, 400);
    assert.match(pages.errors?.[0]?.message ?? '', /Query Cost limit of 100000 exceeded/);
  });

  it('counts Query.nodes as the nodes tracked', async () => {
    // nodes: (2 + 1.5 * 1) = 3.5 statically; two more nodes add 2 * 3.5.
    const nodes = ['a', 'b', 'c'];
    const over = new Harness({ nodes, deps: { limits: { maxCost: 10 } } });
    assert.equal((await over.query('{ nodes { id } }')).status, 400);
    const within = new Harness({ nodes, deps: { limits: { maxCost: 11 } } });
    assert.deepEqual(await within.data('{ nodes { id } }'), {
      nodes: [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
    });
  });
});

import { strict as assert } from 'node:assert';
import { channelPoint, Harness, HOUR, iso, MINUTE, pubkey, SECOND, T0 } from './harness.js';

const CP = channelPoint(1);
const PEER = pubkey(1);

/** The bridge's heartbeat: an `up` status every 15 s while lnd is up. */
function heartbeats(h: Harness, from: number, to: number, node = 'alice'): void {
  for (let t = from; t <= to; t += 15 * SECOND) h.store(node).status(true, t);
}

/**
 * A channel opened at T0 with its peer online, the peer offline from 30 min;
 * lnd down from 1 h, back at 2 h: a gap from 1 h to 2 h 2 min (2 min of
 * settle). The bridge beats until now, 3 h.
 */
async function lndDownForAnHour(): Promise<Harness> {
  const h = new Harness();
  const store = h.store();
  store.status(true, T0);
  store.peerEvent(PEER, true, T0);
  await h.open(PEER, CP, T0);
  store.peerEvent(PEER, false, T0 + 30 * MINUTE);
  heartbeats(h, T0 + 15 * SECOND, T0 + HOUR - 15 * SECOND);
  store.status(false, T0 + HOUR);
  store.status(true, T0 + 2 * HOUR);
  heartbeats(h, T0 + 2 * HOUR + 15 * SECOND, T0 + 3 * HOUR);
  h.clock.set(T0 + 3 * HOUR);
  return h;
}

const GAP = { start: iso(T0 + HOUR), end: iso(T0 + 2 * HOUR + 2 * MINUTE), reason: 'LND_DOWN' };

const NODE = `query($from: DateTime, $to: DateTime) {
  nodes { id observed gaps(from: $from, to: $to) { start end reason } }
}`;

interface NodeJson {
  id: string;
  observed: boolean;
  gaps: { start: string; end: string | null; reason: string }[];
}

async function node(h: Harness, vars: Record<string, unknown> = {}): Promise<NodeJson> {
  const { nodes } = await h.data<{ nodes: NodeJson[] }>(NODE, vars);
  assert.equal(nodes.length, 1);
  return nodes[0]!;
}

describe('GraphQL observed time', () => {
  describe('Node.observed and Node.gaps', () => {
    it('shows a node that never sent a status as observed, without gaps', async () => {
      const h = new Harness();
      await h.open(PEER, CP, T0);
      h.clock.set(T0 + HOUR);
      assert.deepEqual(await node(h), { id: 'alice', observed: true, gaps: [] });
    });

    it('lists the gap of lnd down for an hour, ended 2 min after it was back', async () => {
      const h = await lndDownForAnHour();
      assert.deepEqual(await node(h), { id: 'alice', observed: true, gaps: [GAP] });
    });

    it('is not observed from a down status on, the gap open (no end)', async () => {
      const h = new Harness();
      h.store().status(true, T0);
      // Within the timeout of the last status: lnd down, not a silent bridge.
      h.store().status(false, T0 + 30 * SECOND);
      h.clock.set(T0 + 2 * MINUTE);
      assert.deepEqual(await node(h), {
        id: 'alice',
        observed: false,
        gaps: [{ start: iso(T0 + 30 * SECOND), end: null, reason: 'LND_DOWN' }],
      });
    });

    it('stays unobserved while the gap settles, and is observed once its end has come', async () => {
      const h = new Harness();
      const store = h.store();
      store.status(false, T0);
      const back = T0 + HOUR;
      store.status(true, back);
      heartbeats(h, back + 15 * SECOND, back + MINUTE + 45 * SECOND);
      h.clock.set(back + MINUTE + 50 * SECOND);
      const settling = { start: iso(T0), end: iso(back + 2 * MINUTE), reason: 'LND_DOWN' };
      // The planned end, ahead of now.
      assert.deepEqual(await node(h), { id: 'alice', observed: false, gaps: [settling] });
      // The end has come: observed, before the store's next event or tick applies it.
      h.clock.set(back + 2 * MINUTE);
      assert.equal(store.observed, false);
      assert.deepEqual(await node(h), { id: 'alice', observed: true, gaps: [settling] });
      // And after it.
      store.status(true, back + 2 * MINUTE);
      assert.equal(store.observed, true);
      assert.deepEqual(await node(h), { id: 'alice', observed: true, gaps: [settling] });
    });

    it('opens a BRIDGE_SILENT gap at the last status once none came for a minute', async () => {
      const h = new Harness();
      h.store().status(true, T0);
      h.clock.set(T0 + 5 * MINUTE);
      h.store().tick(T0 + 5 * MINUTE);
      assert.deepEqual(await node(h), {
        id: 'alice',
        observed: false,
        gaps: [{ start: iso(T0), end: null, reason: 'BRIDGE_SILENT' }],
      });
    });

    it('shows the exporter down since its last write, until 2 min after the bootstrap reply', async () => {
      const h = new Harness();
      h.store().restore([], { exporterDownSince: T0 });
      h.store().bootstrapped(true, T0 + 10 * MINUTE);
      h.clock.set(T0 + HOUR);
      assert.deepEqual(await node(h), {
        id: 'alice',
        observed: true,
        gaps: [{ start: iso(T0), end: iso(T0 + 12 * MINUTE), reason: 'EXPORTER_DOWN' }],
      });
    });

    it('lists only the gaps overlapping the window', async () => {
      const h = await lndDownForAnHour();
      const gaps = async (from?: number, to?: number): Promise<NodeJson['gaps']> =>
        (
          await node(h, {
            ...(from === undefined ? {} : { from: iso(from) }),
            ...(to === undefined ? {} : { to: iso(to) }),
          })
        ).gaps;
      assert.deepEqual(await gaps(T0, T0 + 30 * MINUTE), []);
      assert.deepEqual(await gaps(T0 + 2 * HOUR + 30 * MINUTE), []);
      assert.deepEqual(await gaps(T0 + 2 * HOUR, T0 + 2 * HOUR + MINUTE), [GAP]);
      assert.deepEqual(await gaps(undefined, T0 + HOUR), [GAP]);
      // Omitted from: since the beginning; a from after now: the gaps at now (none).
      assert.deepEqual(await gaps(undefined, T0 + 30 * MINUTE), []);
      assert.deepEqual(await gaps(T0 + 5 * HOUR), []);
    });

    it('refuses a window ending before it starts', async () => {
      const h = await lndDownForAnHour();
      const error = await h.error(NODE, { from: iso(T0 + 2 * HOUR), to: iso(T0 + HOUR) });
      assert.equal(error.code, 'BAD_USER_INPUT');
      assert.match(error.message, /gaps: to .* is before from/);
    });

    it('answers each node of several for itself', async () => {
      const h = new Harness({ nodes: ['alice', 'bob'] });
      h.store('bob').status(false, T0);
      h.clock.set(T0 + MINUTE);
      const { nodes } = await h.data<{ nodes: NodeJson[] }>(NODE);
      assert.deepEqual(nodes, [
        { id: 'alice', observed: true, gaps: [] },
        { id: 'bob', observed: false, gaps: [{ start: iso(T0), end: null, reason: 'LND_DOWN' }] },
      ]);
    });
  });

  describe('Channel over a gap', () => {
    const CHANNEL = `query($cp: String!) {
      channel(channelPoint: $cp) { lifetimeSeconds unobservedSeconds uptimeSeconds uptimeRatio }
    }`;

    it('counts observed time only in the lifetime and the ratio', async () => {
      const h = await lndDownForAnHour();
      const { channel } = await h.data<{ channel: unknown }>(CHANNEL, { cp: CP });
      // 3 h less the 62 min gap: 118 min observed, 30 min of them online.
      assert.deepEqual(channel, {
        lifetimeSeconds: 118 * 60,
        unobservedSeconds: 62 * 60,
        uptimeSeconds: 30 * 60,
        uptimeRatio: 30 / 118,
      });
    });

    it('has no unobserved time without a gap: lnd figures exactly', async () => {
      const h = new Harness();
      await h.open(PEER, CP, T0);
      h.events().peerEvent(PEER, true, T0 + HOUR);
      h.clock.set(T0 + 4 * HOUR);
      const { channel } = await h.data<{ channel: unknown }>(CHANNEL, { cp: CP });
      assert.deepEqual(channel, {
        lifetimeSeconds: 4 * 3600,
        unobservedSeconds: 0,
        uptimeSeconds: 3 * 3600,
        uptimeRatio: 0.75,
      });
    });

    it('counts the unobserved time since the opening of a channel opened during the gap', async () => {
      const h = await lndDownForAnHour();
      const cp = channelPoint(2);
      await h.open(pubkey(2), cp, T0 + 90 * MINUTE);
      const { channel } = await h.data<{ channel: unknown }>(CHANNEL, { cp });
      // Opened at 90 min; observed from the gap's end (122 min) to now (180 min).
      assert.deepEqual(channel, {
        lifetimeSeconds: 58 * 60,
        unobservedSeconds: 32 * 60,
        uptimeSeconds: 0,
        uptimeRatio: 0,
      });
    });

    it('has the same figures in the channels listing, ranked by observed ratio', async () => {
      const h = await lndDownForAnHour();
      // Peer 2, online throughout, opened after the gap: ratio 1, 58 min.
      h.events().peerEvent(pubkey(2), true, T0 + 2 * HOUR + 2 * MINUTE);
      await h.open(pubkey(2), channelPoint(2), T0 + 2 * HOUR + 2 * MINUTE);
      const expected = [
        { channelPoint: CP, lifetimeSeconds: 118 * 60, uptimeRatio: 30 / 118 },
        { channelPoint: channelPoint(2), lifetimeSeconds: 58 * 60, uptimeRatio: 1 },
      ];
      // Every channel (the store's figures), and one peer's (computed channel by channel).
      const listings: [string, typeof expected][] = [
        ['', expected],
        [`peer: "${PEER}"`, expected.slice(0, 1)],
        [`peer: "${pubkey(2)}"`, expected.slice(1)],
      ];
      for (const [args, want] of listings) {
        for (const order of ['UPTIME_RATIO_ASC', 'UPTIME_RATIO_DESC', 'LIFETIME_DESC']) {
          const { channels } = await h.data<{ channels: { nodes: unknown[] } }>(
            `{ channels(orderBy: ${order} ${args}) { nodes { channelPoint lifetimeSeconds uptimeRatio } } }`,
          );
          assert.deepEqual(
            channels.nodes,
            order === 'UPTIME_RATIO_DESC' ? [...want].reverse() : want,
            `${order} ${args}`,
          );
        }
      }
    });
  });

  describe('UptimeWindow over a gap', () => {
    const UPTIME = `query($cp: String!, $from: DateTime!, $to: DateTime) {
      channel(channelPoint: $cp) {
        uptime(from: $from, to: $to) { from to uptimeSeconds unobservedSeconds ratio }
      }
    }`;

    async function uptime(h: Harness, from: number, to?: number): Promise<unknown> {
      const vars = { cp: CP, from: iso(from), ...(to === undefined ? {} : { to: iso(to) }) };
      return (await h.data<{ channel: { uptime: unknown } }>(UPTIME, vars)).channel.uptime;
    }

    it('gives the unobserved part of the window and the ratio over the observed part', async () => {
      const h = await lndDownForAnHour();
      assert.deepEqual(await uptime(h, T0), {
        from: iso(T0),
        to: iso(T0 + 3 * HOUR),
        uptimeSeconds: 1800,
        unobservedSeconds: 62 * 60,
        ratio: 30 / 118,
      });
      // 20 min to 70 min: 10 of the 50 min unobserved; online 20 to 30 min.
      assert.deepEqual(await uptime(h, T0 + 20 * MINUTE, T0 + 70 * MINUTE), {
        from: iso(T0 + 20 * MINUTE),
        to: iso(T0 + 70 * MINUTE),
        uptimeSeconds: 600,
        unobservedSeconds: 600,
        ratio: 600 / 2400,
      });
    });

    it('has no ratio for a window wholly inside the gap', async () => {
      const h = await lndDownForAnHour();
      assert.deepEqual(await uptime(h, T0 + 70 * MINUTE, T0 + 80 * MINUTE), {
        from: iso(T0 + 70 * MINUTE),
        to: iso(T0 + 80 * MINUTE),
        uptimeSeconds: 0,
        unobservedSeconds: 600,
        ratio: null,
      });
    });

    it('has no unobserved time without a gap', async () => {
      const h = new Harness();
      await h.open(PEER, CP, T0);
      h.events().peerEvent(PEER, true, T0 + HOUR);
      h.clock.set(T0 + 2 * HOUR);
      assert.deepEqual(await uptime(h, T0 + 30 * MINUTE), {
        from: iso(T0 + 30 * MINUTE),
        to: iso(T0 + 2 * HOUR),
        uptimeSeconds: 3600,
        unobservedSeconds: 0,
        ratio: 3600 / 5400,
      });
    });
  });

  describe('listings over observed time', () => {
    it('ranks peers by uptime over observed time (UPTIME_RATIO_ASC)', async () => {
      const h = await lndDownForAnHour();
      // Peer 2 online throughout, peer 3 offline 5 of its 58 observed minutes (opened
      // after the gap): 0.91, ahead of peer 2 (1) but behind peer 1 (30 / 118).
      h.events().peerEvent(pubkey(2), true, T0);
      await h.open(pubkey(2), channelPoint(2), T0);
      const afterGap = T0 + 2 * HOUR + 2 * MINUTE;
      h.events().peerEvent(pubkey(3), true, afterGap);
      await h.open(pubkey(3), channelPoint(3), afterGap);
      h.events().peerEvent(pubkey(3), false, afterGap + 10 * MINUTE);
      h.events().peerEvent(pubkey(3), true, afterGap + 15 * MINUTE);
      const { peers } = await h.data<{ peers: { nodes: { pubkey: string }[] } }>(
        '{ peers(orderBy: UPTIME_RATIO_ASC) { nodes { pubkey } } }',
      );
      // Over wall-clock time peer 2 (118 / 180) would come before peer 3.
      assert.deepEqual(
        peers.nodes.map((p) => p.pubkey),
        [PEER, pubkey(3), pubkey(2)],
      );
    });

    it('judges close recommendations over observed time, with and without a window', async () => {
      const h = await lndDownForAnHour();
      // Peer 2 online throughout: ratio 1 over the lifetime and over any window.
      h.events().peerEvent(pubkey(2), true, T0);
      await h.open(pubkey(2), channelPoint(2), T0);
      const ask = async (args: string): Promise<unknown> => {
        const { closeRecommendations } = await h.data<{
          closeRecommendations: { considered: { nodes: unknown[] } };
        }>(
          `{ closeRecommendations(threshold: 0.99, ${args}) {
            considered { nodes { channel { channelPoint } ratio recommended } } } }`,
        );
        return closeRecommendations.considered.nodes;
      };
      const both = [
        { channel: { channelPoint: CP }, ratio: 30 / 118, recommended: true },
        { channel: { channelPoint: channelPoint(2) }, ratio: 1, recommended: false },
      ];
      assert.deepEqual(await ask('minMonitored: "1h"'), both);
      // The last hour: 2 min of it unobserved; peer 1 was offline in all of it.
      assert.deepEqual(await ask('minMonitored: "1h", window: "1h"'), [
        { ...both[0], ratio: 0 },
        both[1],
      ]);
      // Monitored 118 min, not the 3 h since the opening: not considered, window or not.
      assert.deepEqual(await ask('minMonitored: "2h"'), []);
      assert.deepEqual(await ask('minMonitored: "2h", window: "1h"'), []);
    });
  });
});

import { strict as assert } from 'node:assert';
import { channelPoint, Harness, HOUR, iso, MINUTE, pubkey, T0 } from './harness.js';

const CP = channelPoint(1);
const PEER = pubkey(1);

const CHANNEL = `query($cp: String!, $node: String) {
  channel(channelPoint: $cp, node: $node) {
    node channelPoint openedAt lifetimeSeconds uptimeSeconds uptimeRatio
    peer { node pubkey tracked }
  }
}`;

interface ChannelJson {
  node: string;
  channelPoint: string;
  openedAt: string;
  lifetimeSeconds: number;
  uptimeSeconds: number;
  uptimeRatio: number | null;
  peer: { node: string; pubkey: string; tracked: boolean };
}

/** A channel opened at T0 whose peer was online from 1 h to 2 h; now is 3 h. */
async function oneHourOfThree(): Promise<Harness> {
  const h = new Harness();
  await h.open(PEER, CP, T0);
  h.events().peerEvent(PEER, true, T0 + HOUR);
  h.events().peerEvent(PEER, false, T0 + 2 * HOUR);
  h.clock.set(T0 + 3 * HOUR);
  return h;
}

describe('GraphQL channel', () => {
  it('reads lifetime, uptime and ratio of a channel online 1 h of its 3 h', async () => {
    const h = await oneHourOfThree();
    const { channel } = await h.data<{ channel: ChannelJson }>(CHANNEL, { cp: CP });
    assert.deepEqual(channel, {
      node: 'alice',
      channelPoint: CP,
      openedAt: '2024-05-01T00:00:00.000Z',
      lifetimeSeconds: 10800,
      uptimeSeconds: 3600,
      uptimeRatio: 1 / 3,
      peer: { node: 'alice', pubkey: PEER, tracked: true },
    });
  });

  it('has no ratio while the lifetime is 0', async () => {
    const h = new Harness();
    await h.open(PEER, CP, T0);
    const { channel } = await h.data<{ channel: ChannelJson }>(CHANNEL, { cp: CP });
    assert.equal(channel.lifetimeSeconds, 0);
    assert.equal(channel.uptimeRatio, null);
  });

  it('finds a channel point written in upper case or with a zero-padded index', async () => {
    const h = await oneHourOfThree();
    const [txid] = CP.split(':');
    const { channel } = await h.data<{ channel: ChannelJson }>(CHANNEL, {
      cp: `${txid!.toUpperCase()}:000`,
    });
    assert.equal(channel.channelPoint, CP);
  });

  describe('uptime(from, to)', () => {
    const UPTIME = `query($cp: String!, $from: DateTime!, $to: DateTime) {
      channel(channelPoint: $cp) { uptime(from: $from, to: $to) { from to uptimeSeconds ratio } }
    }`;

    async function uptime(h: Harness, from: number, to?: number): Promise<unknown> {
      const vars = { cp: CP, from: iso(from), ...(to === undefined ? {} : { to: iso(to) }) };
      const data = await h.data<{ channel: { uptime: unknown } }>(UPTIME, vars);
      return data.channel.uptime;
    }

    it('counts the online time inside a window', async () => {
      const h = await oneHourOfThree();
      assert.deepEqual(await uptime(h, T0 + 30 * MINUTE, T0 + 90 * MINUTE), {
        from: iso(T0 + 30 * MINUTE),
        to: iso(T0 + 90 * MINUTE),
        uptimeSeconds: 1800,
        ratio: 0.5,
      });
    });

    it('runs to now when to is omitted', async () => {
      const h = await oneHourOfThree();
      assert.deepEqual(await uptime(h, T0 + 90 * MINUTE), {
        from: iso(T0 + 90 * MINUTE),
        to: iso(T0 + 3 * HOUR),
        uptimeSeconds: 1800,
        ratio: 1800 / 5400,
      });
    });

    it('clamps a window starting before the opening to the lifetime', async () => {
      const h = await oneHourOfThree();
      assert.deepEqual(await uptime(h, T0 - 5 * HOUR, T0 + 2 * HOUR), {
        from: iso(T0),
        to: iso(T0 + 2 * HOUR),
        uptimeSeconds: 3600,
        ratio: 0.5,
      });
    });

    it('gives an empty window and no ratio wholly before the opening', async () => {
      const h = await oneHourOfThree();
      assert.deepEqual(await uptime(h, T0 - 5 * HOUR, T0 - 4 * HOUR), {
        from: iso(T0),
        to: iso(T0),
        uptimeSeconds: 0,
        ratio: null,
      });
    });

    it('gives an empty window at now after now, with or without to', async () => {
      const h = await oneHourOfThree();
      const empty = {
        from: iso(T0 + 3 * HOUR),
        to: iso(T0 + 3 * HOUR),
        uptimeSeconds: 0,
        ratio: null,
      };
      assert.deepEqual(await uptime(h, T0 + 4 * HOUR, T0 + 5 * HOUR), empty);
      assert.deepEqual(await uptime(h, T0 + 4 * HOUR), empty);
    });

    it('refuses a window ending before it starts', async () => {
      const h = await oneHourOfThree();
      const error = await h.error(UPTIME, { cp: CP, from: iso(T0 + 2 * HOUR), to: iso(T0 + HOUR) });
      assert.equal(error.code, 'BAD_USER_INPUT');
      assert.match(error.message, /before/);
    });

    it('refuses a DateTime that is not RFC 3339, as a variable and as a literal', async () => {
      const h = await oneHourOfThree();
      for (const bad of [
        '2024-05-01T00:00:00',
        '2024-02-30T00:00:00Z',
        'yesterday',
        '1714521600',
      ]) {
        const error = await h.error(UPTIME, { cp: CP, from: bad });
        assert.equal(error.code, 'BAD_USER_INPUT', bad);
      }
      const literal = await h.error(
        `{ channel(channelPoint: "${CP}") { uptime(from: "2024-05-01 00:00:00Z") { ratio } } }`,
      );
      assert.equal(literal.code, 'BAD_USER_INPUT');
      assert.match(literal.message, /RFC 3339/);
      const number = await h.error(
        `{ channel(channelPoint: "${CP}") { uptime(from: 5) { ratio } } }`,
      );
      assert.equal(number.code, 'BAD_USER_INPUT');
    });

    it('reads a DateTime with an offset and fraction', async () => {
      const h = await oneHourOfThree();
      // 02:30+02:00 is 00:30Z; .5 s later.
      const data = await h.data<{ channel: { uptime: { from: string } } }>(UPTIME, {
        cp: CP,
        from: '2024-05-01T02:30:00.5+02:00',
      });
      assert.equal(data.channel.uptime.from, '2024-05-01T00:30:00.500Z');
    });
  });

  describe('onlinePeriods', () => {
    const PERIODS = `query($cp: String!, $from: DateTime, $to: DateTime) {
      channel(channelPoint: $cp) { onlinePeriods(from: $from, to: $to) { start end } }
    }`;

    async function periods(h: Harness, vars: Record<string, string> = {}): Promise<unknown> {
      const data = await h.data<{ channel: { onlinePeriods: unknown } }>(PERIODS, {
        cp: CP,
        ...vars,
      });
      return data.channel.onlinePeriods;
    }

    it('lists closed periods and an ongoing one with a null end', async () => {
      const h = await oneHourOfThree();
      h.events().peerEvent(PEER, true, T0 + 150 * MINUTE);
      assert.deepEqual(await periods(h), [
        { start: iso(T0 + HOUR), end: iso(T0 + 2 * HOUR) },
        { start: iso(T0 + 150 * MINUTE), end: null },
      ]);
    });

    it('clips periods to the window', async () => {
      const h = await oneHourOfThree();
      h.events().peerEvent(PEER, true, T0 + 150 * MINUTE);
      assert.deepEqual(
        await periods(h, { from: iso(T0 + 90 * MINUTE), to: iso(T0 + 160 * MINUTE) }),
        [
          { start: iso(T0 + 90 * MINUTE), end: iso(T0 + 2 * HOUR) },
          { start: iso(T0 + 150 * MINUTE), end: iso(T0 + 160 * MINUTE) },
        ],
      );
    });

    it('refuses a window ending before it starts', async () => {
      const h = await oneHourOfThree();
      const error = await h.error(PERIODS, {
        cp: CP,
        from: iso(T0 + 2 * HOUR),
        to: iso(T0 + HOUR),
      });
      assert.equal(error.code, 'BAD_USER_INPUT');
    });
  });

  describe('errors', () => {
    it('is null with CHANNEL_NOT_FOUND for a channel the store does not track', async () => {
      const h = await oneHourOfThree();
      const error = await h.error(CHANNEL, { cp: channelPoint(2) });
      assert.equal(error.code, 'CHANNEL_NOT_FOUND');
      assert.deepEqual(error.data, { channel: null });
    });

    it('is PEER_NOT_FOUND while the open waits for its peer record, found once it is read', async () => {
      const h = new Harness();
      h.holdReads = true;
      h.events().openChannel(PEER, CP, T0);
      assert.equal((await h.error(CHANNEL, { cp: CP })).code, 'PEER_NOT_FOUND');
      h.releaseReads();
      await h.idle();
      const { channel } = await h.data<{ channel: ChannelJson }>(CHANNEL, { cp: CP });
      assert.equal(channel.channelPoint, CP);
    });

    it('is null with NODE_NOT_FOUND for a node that is not tracked', async () => {
      const h = await oneHourOfThree();
      const error = await h.error(CHANNEL, { cp: CP, node: 'bob' });
      assert.equal(error.code, 'NODE_NOT_FOUND');
      assert.deepEqual(error.data, { channel: null });
    });

    it('is BAD_USER_INPUT for a malformed channel point', async () => {
      const h = await oneHourOfThree();
      for (const cp of [
        '',
        'abc:0',
        'a'.repeat(64),
        `${'a'.repeat(64)}:-1`,
        `${'g'.repeat(64)}:0`,
        `${'a'.repeat(64)}:4294967296`,
      ]) {
        assert.equal((await h.error(CHANNEL, { cp })).code, 'BAD_USER_INPUT', cp);
      }
    });

    it('needs node only while several nodes are tracked', async () => {
      const h = new Harness({ nodes: ['alice', 'bob'] });
      await h.open(PEER, CP, T0, 'bob');
      const error = await h.error(CHANNEL, { cp: CP });
      assert.equal(error.code, 'BAD_USER_INPUT');
      assert.match(error.message, /alice, bob/);
      const { channel } = await h.data<{ channel: ChannelJson }>(CHANNEL, { cp: CP, node: 'bob' });
      assert.equal(channel.node, 'bob');
    });

    it('is BAD_USER_INPUT without node while no node is tracked', async () => {
      const h = new Harness({ nodes: [] });
      assert.equal((await h.error(CHANNEL, { cp: CP })).code, 'BAD_USER_INPUT');
    });
  });
});

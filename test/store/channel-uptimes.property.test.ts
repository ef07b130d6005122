import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { RecordGate } from '../../src/ingest/record-gate.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import { selectChannelPage } from '../../src/graphql/channel-page.js';
import { CHANNEL_ORDERS } from '../../src/graphql/ordering.js';
import { channelPoint, pubkey } from '../../test/support/store-fixture.js';
import { TestClock } from '../../test/support/test-clock.js';
const T0 = Date.parse('2024-05-01T00:00:00Z');
const MIN = 60_000;
const ev = fc.record({
  peer: fc.integer({ min: 1, max: 5 }),
  channel: fc.integer({ min: 1, max: 12 }),
  kind: fc.constantFrom('open', 'close', 'online', 'offline', 'query', 'query'),
  dt: fc.oneof(
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 0, max: 120 }),
    fc.integer({ min: 0, max: 2000 }),
  ),
  nowBack: fc.integer({ min: -30, max: 30 }),
});
describe('channelUptimes agrees with channelInfo', () => {
  it('matches per channel and per page', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(ev, { minLength: 40, maxLength: 160, size: 'max' }),
        fc.constantFrom(...CHANNEL_ORDERS),
        fc.integer({ min: 1, max: 6 }),
        async (events, order, first) => {
          const clock = new TestClock(T0);
          const store = new ChannelEventStore({ node: 'a', clock });
          // Events go through a gate, as the ingest submits them (no record is persisted here).
          const gates = new RecordGate({ read: () => Promise.resolve(undefined) });
          const gate = gates.of(store);
          let t = T0;
          for (const e of events) {
            t += (e.dt * MIN) / 10;
            clock.set(t);
            if (e.kind === 'open') gate.openChannel(pubkey(e.peer), channelPoint(e.channel), t);
            else if (e.kind === 'close')
              gate.closeChannel(pubkey(e.peer), channelPoint(e.channel), t);
            else if (e.kind === 'online' || e.kind === 'offline')
              gate.peerEvent(pubkey(e.peer), e.kind === 'online', t);
            else {
              await gates.idle();
              const now = t + e.nowBack * MIN;
              const u = store.channelUptimes(now);
              assert.equal(u.count, store.channelCount);
              for (let i = 0; i < u.count; i++) {
                const info = store.channelInfo(u.channels[i]!, now);
                assert.equal(u.uptime[i], info.uptime);
                assert.equal(u.lifetime[i], info.lifetime);
              }
              const a = selectChannelPage([{ store, allChannels: true }], {
                order,
                first,
                after: undefined,
                now,
              });
              const b = selectChannelPage([{ store, channels: store.channels() }], {
                order,
                first,
                after: undefined,
                now,
              });
              const c = selectChannelPage([{ store, peers: store.peers() }], {
                order,
                first,
                after: undefined,
                now,
              });
              const key = (p: typeof a) =>
                p.entries.map((x) => [x.channelPoint, x.rank, x.info?.uptime, x.info?.lifetime]);
              assert.deepEqual(key(a), key(b));
              assert.deepEqual(key(c), key(b));
              assert.equal(a.totalCount, b.totalCount);
              assert.equal(a.hasNextPage, b.hasNextPage);
            }
          }
          await gates.idle();
        },
      ),
      { numRuns: 1500 },
    );
  });
});

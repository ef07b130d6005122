import assert from 'node:assert/strict';
import { channelInfo } from '../../src/store/channel-info.js';
import { StoreError } from '../../src/store/errors.js';
import { PeerMonitor } from '../../src/store/peer-monitor.js';
import {
  FLAP_COOLDOWN_PERIOD_MS,
  RATE_LIMIT_SCALE,
  RATE_LIMITS_MS,
  rateLimitMs,
} from '../../src/store/rate-limit.js';
import { HOUR, SECOND, TEST_NOW, TestClock } from '../support/test-clock.js';

const PUBKEY = '02' + '11'.repeat(32);
const CHAN1 = 'aa'.repeat(32) + ':1';
const CHAN2 = 'aa'.repeat(32) + ':2';

function info(monitor: PeerMonitor, channelPoint: string, now: number) {
  const channel = monitor.channel(channelPoint);
  assert.ok(channel, `channel ${channelPoint} tracked`);
  return channelInfo(channel, now);
}

describe('PeerMonitor (lnd TestPeerLog)', () => {
  it('counts flaps, seeds the log on the first channel, and keeps flaps after the last close', () => {
    const clock = new TestClock(TEST_NOW);
    const monitor = new PeerMonitor(PUBKEY, undefined, clock.now());
    const assertFlaps = (count: number, lastFlap: number | undefined) => {
      assert.equal(monitor.flapCount, count);
      assert.equal(monitor.lastFlap, lastFlap);
    };

    assert.equal(monitor.channelCount, 0);
    assert.equal(monitor.online, false);
    assertFlaps(0, undefined);
    assert.equal(monitor.channel(CHAN1), undefined);

    // Without channels, events count as flaps but log nothing.
    monitor.onlineEvent(false, clock.now());
    assert.deepEqual(monitor.log.periods(-Infinity, Infinity, clock.now()), []);
    assertFlaps(1, TEST_NOW);

    const online = clock.advance(HOUR);
    monitor.onlineEvent(true, online);
    assert.deepEqual(monitor.log.periods(-Infinity, Infinity, clock.now()), []);
    assertFlaps(2, online);

    // The first channel seeds the log with the current state, without a flap.
    monitor.addChannel(CHAN1, clock.now());
    assert.equal(monitor.channelCount, 1);
    assertFlaps(2, online);

    const offline = clock.advance(HOUR);
    assert.deepEqual(info(monitor, CHAN1, clock.now()), { lifetime: HOUR, uptime: HOUR });

    monitor.onlineEvent(false, offline);
    assertFlaps(3, offline);

    monitor.addChannel(CHAN2, clock.now());
    assert.equal(monitor.channelCount, 2);

    clock.advance(2 * HOUR);
    assert.deepEqual(info(monitor, CHAN1, clock.now()), { lifetime: 3 * HOUR, uptime: HOUR });

    monitor.removeChannel(CHAN1);
    assert.equal(monitor.channelCount, 1);
    // Opened while the peer was offline: monitored two hours, zero uptime.
    assert.deepEqual(info(monitor, CHAN2, clock.now()), { lifetime: 2 * HOUR, uptime: 0 });

    monitor.removeChannel(CHAN2);
    assert.equal(monitor.channelCount, 0);
    assert.equal(monitor.log.committedCount, 0);
    assert.equal(monitor.log.staged, undefined);
    assertFlaps(3, offline);
  });

  it('rejects a duplicate channel and the removal of an unknown one', () => {
    const monitor = new PeerMonitor(PUBKEY, undefined, TEST_NOW);
    monitor.addChannel(CHAN1, TEST_NOW);
    assert.throws(
      () => monitor.addChannel(CHAN1, TEST_NOW + 1),
      (e: unknown) => e instanceof StoreError && e.code === 'duplicate_channel',
    );
    assert.equal(monitor.channel(CHAN1)?.openedAt, TEST_NOW);
    assert.throws(
      () => monitor.removeChannel(CHAN2),
      (e: unknown) => e instanceof StoreError && e.code === 'unknown_channel',
    );
  });

  it('starts from a persisted record and cools it down on the next event', () => {
    const monitor = new PeerMonitor(PUBKEY, { count: 10, lastFlap: TEST_NOW }, TEST_NOW);
    assert.equal(monitor.flapCount, 10);
    monitor.onlineEvent(true, TEST_NOW + FLAP_COOLDOWN_PERIOD_MS);
    assert.equal(monitor.flapCount, 10); // 10 * 0.95 = 9.5 -> 9, plus this flap
  });
});

describe('PeerMonitor rate limiting (lnd TestRateLimitAdd)', () => {
  it('stages, replaces, commits past the limit, and drops a tier after cooldown', () => {
    const clock = new TestClock(TEST_NOW);
    const monitor = new PeerMonitor(PUBKEY, undefined, clock.now());
    monitor.addChannel('bb'.repeat(32) + ':0', clock.now());

    // The first event is staged.
    monitor.onlineEvent(false, clock.now());
    assert.deepEqual(monitor.log.staged, { time: TEST_NOW, online: false });

    // An immediate second one replaces it.
    monitor.onlineEvent(true, clock.now());
    const committedEvent = { time: TEST_NOW, online: true };
    assert.deepEqual(monitor.log.staged, committedEvent);

    // Just past the limit, the staged event is committed and the new one staged.
    const past = clock.advance(rateLimitMs(monitor.flapCount) + 1);
    monitor.onlineEvent(false, past);
    assert.deepEqual(monitor.log.committed(), [committedEvent]);
    assert.deepEqual(monitor.log.staged, { time: past, online: false });

    // Five more inside the limit only change the staged event.
    for (let i = 0; i < 5; i++) {
      const online = i % 2 === 1;
      monitor.onlineEvent(online, past);
      assert.deepEqual(monitor.log.committed(), [committedEvent]);
      assert.deepEqual(monitor.log.staged, { time: past, online });
    }

    // In the second tier, 8 h without a flap cool the count back into the first.
    monitor.flapCount = RATE_LIMIT_SCALE + 1;
    assert.equal(rateLimitMs(monitor.flapCount), RATE_LIMITS_MS[1]);
    const cooled = clock.advance(FLAP_COOLDOWN_PERIOD_MS);
    monitor.onlineEvent(true, cooled);
    const onlineEvent = { time: cooled, online: true };
    assert.deepEqual(monitor.log.staged, onlineEvent);

    // So an event just over 1 s later commits the staged one.
    const next = clock.advance((RATE_LIMITS_MS[0] ?? 0) + 1);
    monitor.onlineEvent(false, next);
    assert.deepEqual(monitor.log.staged, { time: next, online: false });
    assert.deepEqual(monitor.log.committed().at(-1), onlineEvent);
    assert.ok(next - cooled < 5 * SECOND, 'inside the second tier limit');
  });
});

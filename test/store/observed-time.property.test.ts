/**
 * Observed time (SPEC 4.4) against a model written the plain way: the node's
 * gaps as a list of spans built from the same status inputs by the rules, each
 * peer's log as the brute-force ReferencePeerLog (lnd's peerLog), and every
 * figure integrated from scratch (online periods minus gaps) at query time.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RecordGate } from '../../src/ingest/record-gate.js';
import { ChannelEventStore } from '../../src/store/channel-event-store.js';
import type { ObservationSettings } from '../../src/store/node-observation.js';
import type { OnlinePeriod } from '../../src/store/online-log.js';
import { channelPoint, pubkey } from '../support/store-fixture.js';
import { HOUR, MINUTE, SECOND, TEST_NOW, TestClock } from '../support/test-clock.js';
import { ReferencePeerLog } from './reference-peer-log.js';

const T0 = TEST_NOW;
const EPS = 1e-6;

type Op =
  | { kind: 'peer'; peer: number; online: boolean; late: number }
  | { kind: 'open' | 'close'; peer: number; channel: number }
  | { kind: 'status'; up: boolean }
  | { kind: 'bootstrap'; answered: boolean }
  | { kind: 'tick' }
  | { kind: 'query'; after: readonly number[] };

interface Step {
  dt: number;
  op: Op;
}

interface Span {
  start: number;
  /** Infinity while open. */
  end: number;
  settling: boolean;
  /** When the node was back (the settle time runs from it). */
  backAt: number;
}

interface ModelPeer {
  /** Connectivity: the latest peer event's state. */
  online: boolean | undefined;
  latest: number;
  monitor: ReferencePeerLog | undefined;
  createdAt: number;
  /** The log was dropped with the peer's last channel at least once. */
  cleared: boolean;
}

/** The store's semantics with observation, written independently and plainly. */
class Model {
  readonly gaps: Span[] = [];
  lastStatus: number | undefined;
  readonly peers = new Map<string, ModelPeer>();
  readonly channels = new Map<string, { pk: string; openedAt: number }>();

  constructor(readonly settings: ObservationSettings) {}

  // ---- gaps ----

  private get last(): Span | undefined {
    return this.gaps[this.gaps.length - 1];
  }

  /** Any event at t ends a settling gap whose end has come: end events at its end. */
  private closeDue(t: number): void {
    const last = this.last;
    if (last === undefined || !last.settling || t < last.end) return;
    last.settling = false;
    for (const [pk, peer] of this.peers) {
      const monitor = peer.monitor;
      if (monitor === undefined) continue;
      const online = this.connectivity(pk);
      monitor.online = online;
      const time = Math.max(last.end, peer.latest);
      if (monitor.channels.size === 0 || lastState(monitor) === online) continue;
      monitor.addEvent(online, time);
      peer.latest = time;
    }
  }

  private unobservedFrom(t: number): void {
    const last = this.last;
    if (last !== undefined) {
      if (last.end === Infinity) return;
      last.settling = false;
      if (t <= last.end) {
        // Gone again before it ended: the same gap goes on.
        last.end = Infinity;
        return;
      }
    }
    this.gaps.push({ start: t, end: Infinity, settling: false, backAt: Infinity });
  }

  private back(t: number): void {
    const last = this.last;
    if (last === undefined || last.end !== Infinity) return;
    last.end = Math.max(t + this.settings.settleMs, last.start);
    last.backAt = t;
    last.settling = true;
  }

  contains(t: number): boolean {
    return this.gaps.some((g) => g.start <= t && t < g.end);
  }

  status(up: boolean, t: number): void {
    // A silence no tick saw is found by the status that ends it.
    this.observeAt(t);
    if (this.lastStatus === undefined || t > this.lastStatus) this.lastStatus = t;
    if (up) this.back(t);
    else this.unobservedFrom(t);
  }

  bootstrapped(answered: boolean, t: number): void {
    this.closeDue(t);
    if (answered || this.lastStatus === undefined) this.back(t);
  }

  tick(now: number): void {
    this.observeAt(now);
  }

  /** The last status when silent at now, else undefined. */
  private silentSince(now: number): number | undefined {
    const lastStatus = this.lastStatus;
    if (lastStatus === undefined) return undefined;
    const last = this.last;
    // Silence counts from the last status, or from the return when later.
    const since = last?.settling === true ? Math.max(lastStatus, last.backAt) : lastStatus;
    return now - since >= this.settings.timeoutMs ? lastStatus : undefined;
  }

  /** What time alone says: the end of a settling gap, unless silent since before it; a silence. */
  private observeAt(now: number): void {
    const silent = this.silentSince(now);
    const last = this.last;
    const closesAt = last?.settling === true ? last.end : Infinity;
    if (silent === undefined || silent > closesAt) this.closeDue(now);
    const since = this.silentSince(now);
    if (since === undefined) return;
    const current = this.last;
    if (current !== undefined && current.end === Infinity) return;
    this.unobservedFrom(since);
  }

  // ---- peers and channels ----

  connectivity(pk: string): boolean {
    return this.peers.get(pk)?.online ?? false;
  }

  /** The time an event of the peer is applied at: never before its latest. */
  private advance(pk: string, t: number): number {
    const peer = this.peers.get(pk);
    if (peer === undefined) {
      this.peers.set(pk, {
        online: undefined,
        latest: t,
        monitor: undefined,
        createdAt: t,
        cleared: false,
      });
      return t;
    }
    if (t >= peer.latest) peer.latest = t;
    return peer.latest;
  }

  peerEvent(pk: string, online: boolean, t: number): void {
    this.closeDue(t);
    const peer = this.peers.get(pk);
    if (peer === undefined) {
      this.peers.set(pk, { online, latest: t, monitor: undefined, createdAt: t, cleared: false });
      return;
    }
    const time = this.advance(pk, t);
    peer.online = online;
    const monitor = peer.monitor;
    if (monitor === undefined) return;
    if (this.contains(t)) monitor.online = online;
    else monitor.onlineEvent(online, time);
  }

  open(pk: string, cp: string, t: number): void {
    if (this.channels.has(cp)) return; // duplicate: rejected
    this.closeDue(t);
    const time = this.advance(pk, t);
    const peer = this.peers.get(pk);
    assert.ok(peer);
    if (peer.monitor === undefined) {
      peer.monitor = new ReferencePeerLog(0, undefined);
      peer.createdAt = time;
      peer.monitor.onlineEvent(this.connectivity(pk), time);
    }
    peer.monitor.addChannel(cp, time);
    this.channels.set(cp, { pk, openedAt: time });
  }

  close(pk: string, cp: string, t: number): void {
    const peer = this.peers.get(pk);
    if (peer?.monitor?.channels.has(cp) !== true) return; // unknown: rejected
    this.closeDue(t);
    this.advance(pk, t);
    peer.monitor.removeChannel(cp);
    if (peer.monitor.channels.size === 0) peer.cleared = true;
    this.channels.delete(cp);
  }

  // ---- figures, from scratch ----

  /** Time of [from, to] inside gaps (a lasting gap runs on; a settling one to its planned end). */
  unobserved(from: number, to: number): number {
    let total = 0;
    for (const g of this.gaps) total += overlap(from, to, g.start, g.end);
    return total;
  }

  /** The parts of [from, to] outside every gap. */
  observedParts(from: number, to: number): [number, number][] {
    const out: [number, number][] = [];
    let at = from;
    for (const g of this.gaps) {
      if (g.end <= at || g.start >= to) continue;
      if (g.start > at) out.push([at, g.start]);
      at = Math.max(at, g.end);
    }
    if (at < to) out.push([at, to]);
    return out;
  }

  /** The peer's online periods (lnd's) cut by [from, to] and by the gaps, adjacent ones joined. */
  onlineParts(pk: string, from: number, to: number, now: number): [number, number][] {
    const monitor = this.peers.get(pk)?.monitor;
    if (monitor === undefined) return [];
    const out: [number, number][] = [];
    for (const p of monitor.periods(now)) {
      const s = Math.max(p.start, from);
      const e = Math.min(p.end, to);
      if (e > s) out.push(...this.observedParts(s, e));
    }
    return joined(out);
  }

  uptime(pk: string, from: number, to: number, now: number): number {
    return this.onlineParts(pk, from, to, now).reduce((sum, [s, e]) => sum + (e - s), 0);
  }
}

function lastState(log: ReferencePeerLog): boolean | undefined {
  return log.listEvents().at(-1)?.online;
}

function overlap(a: number, b: number, c: number, d: number): number {
  return Math.max(0, Math.min(b, d) - Math.max(a, c));
}

/** Joins parts that touch, drops empty ones. */
function joined(parts: readonly (readonly [number, number])[]): [number, number][] {
  const out: [number, number][] = [];
  for (const [s, e] of parts) {
    if (!(e > s)) continue;
    const prev = out[out.length - 1];
    if (prev !== undefined && prev[1] === s) prev[1] = e;
    else out.push([s, e]);
  }
  return out;
}

const near = (actual: number, expected: number, what: string): void => {
  assert.ok(
    Math.abs(actual - expected) <= EPS,
    `${what}: ${actual} (expected ${expected}, off by ${actual - expected})`,
  );
};

// ---- arbitraries ----

const dt = fc.oneof(
  fc.integer({ min: 0, max: 2 * SECOND }),
  fc.integer({ min: 0, max: 90 * SECOND }),
  fc.integer({ min: 0, max: 10 * MINUTE }),
  fc.integer({ min: 0, max: 2 * HOUR }),
);

const peerOp: fc.Arbitrary<Op> = fc.record({
  kind: fc.constant('peer' as const),
  peer: fc.integer({ min: 1, max: 3 }),
  online: fc.boolean(),
  late: fc.oneof(
    { arbitrary: fc.constant(0), weight: 4 },
    { arbitrary: fc.integer({ min: 0, max: 10 * MINUTE }), weight: 1 },
  ),
});
const channelOp: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('open' as const, 'open' as const, 'close' as const),
  peer: fc.integer({ min: 1, max: 3 }),
  channel: fc.integer({ min: 0, max: 2 }),
});
const queryOp: fc.Arbitrary<Op> = fc.record({
  kind: fc.constant('query' as const),
  after: fc.array(
    fc.oneof(
      fc.constant(0),
      fc.integer({ min: 0, max: 5 * MINUTE }),
      fc.integer({ min: 0, max: 3 * HOUR }),
    ),
    { minLength: 1, maxLength: 3 },
  ),
});
const observationOps: fc.Arbitrary<Op>[] = [
  fc.record({ kind: fc.constant('bootstrap' as const), answered: fc.boolean() }),
  fc.constant<Op>({ kind: 'tick' }),
];
const statusOp: fc.Arbitrary<Op> = fc.record({
  kind: fc.constant('status' as const),
  up: fc.boolean(),
});

function steps(withStatus: boolean): fc.Arbitrary<Step[]> {
  const op = fc.oneof(
    { arbitrary: peerOp, weight: 6 },
    { arbitrary: channelOp, weight: 3 },
    { arbitrary: fc.oneof(...observationOps), weight: 2 },
    { arbitrary: withStatus ? statusOp : fc.constant<Op>({ kind: 'tick' }), weight: 3 },
    { arbitrary: queryOp, weight: 2 },
  );
  return fc.array(fc.record({ dt, op }), { minLength: 1, maxLength: 120, size: 'max' });
}

const settingsArb: fc.Arbitrary<ObservationSettings> = fc.record({
  timeoutMs: fc.constantFrom(30 * SECOND, 60 * SECOND),
  settleMs: fc.constantFrom(0, 30 * SECOND, 120 * SECOND),
});

// ---- running both ----

/** Applies the steps to a store and to the model alike, calling check at each query instant. */
async function run(
  history: readonly Step[],
  settings: ObservationSettings,
  check: (store: ChannelEventStore, model: Model, now: number) => void,
): Promise<void> {
  const clock = new TestClock(T0);
  const store = new ChannelEventStore({
    node: 'n',
    clock,
    observation: settings,
  });
  // Opens go through a gate, as the ingest submits them (no record is persisted here).
  const gates = new RecordGate({ read: () => Promise.resolve(undefined) });
  const gate = gates.of(store);
  const model = new Model(settings);
  let t = T0;
  for (const { dt: step, op } of history) {
    t += step;
    clock.set(t);
    switch (op.kind) {
      case 'peer': {
        const time = t - op.late;
        store.peerEvent(pubkey(op.peer), op.online, time);
        model.peerEvent(pubkey(op.peer), op.online, time);
        break;
      }
      case 'open':
        gate.openChannel(pubkey(op.peer), channelPoint(op.peer, op.channel), t);
        await gates.idle();
        model.open(pubkey(op.peer), channelPoint(op.peer, op.channel), t);
        break;
      case 'close':
        store.closeChannel(pubkey(op.peer), channelPoint(op.peer, op.channel), t);
        model.close(pubkey(op.peer), channelPoint(op.peer, op.channel), t);
        break;
      case 'status':
        store.status(op.up, t);
        model.status(op.up, t);
        break;
      case 'bootstrap':
        store.bootstrapped(op.answered, t);
        model.bootstrapped(op.answered, t);
        break;
      case 'tick':
        store.tick(t);
        model.tick(t);
        break;
      case 'query':
        for (const after of op.after) {
          clock.set(t + after);
          check(store, model, t + after);
        }
        clock.set(t);
    }
  }
  clock.set(t);
  check(store, model, t);
}

/** What both sides agree on whatever the gaps: flaps, logs, the channels and their peers. */
function checkState(store: ChannelEventStore, model: Model): void {
  assert.equal(store.channelCount, model.channels.size);
  for (const [pk, peer] of model.peers) {
    const monitor = store.peer(pk);
    assert.equal(monitor === undefined, peer.monitor === undefined, `monitor of ${pk}`);
    if (monitor === undefined || peer.monitor === undefined) continue;
    assert.equal(monitor.flapCount, peer.monitor.flapCount, 'flap count');
    assert.equal(monitor.lastFlap, peer.monitor.lastFlap, 'last flap');
    assert.equal(monitor.online, peer.monitor.online, 'monitor online');
    assert.deepEqual(monitor.log.committed(), peer.monitor.events, 'committed log');
    assert.deepEqual(monitor.log.staged, peer.monitor.staged, 'staged event');
    assert.equal(store.connectivity(pk), model.connectivity(pk), 'connectivity');
  }
}

describe('observed time against a plain model (property)', () => {
  it('with no status message, every figure equals the brute-force lnd oracle exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        steps(false),
        fc.array(
          fc.tuple(
            fc.double({ min: -0.2, max: 1.2, noNaN: true }),
            fc.double({ min: 0, max: 1.5, noNaN: true }),
          ),
          { minLength: 1, maxLength: 3 },
        ),
        async (history, windows) => {
          await run(
            history,
            { timeoutMs: 60 * SECOND, settleMs: 120 * SECOND },
            (store, model, now) => {
              assert.equal(model.gaps.length, 0);
              assert.equal(store.observed, true);
              assert.deepEqual(store.gaps(-Infinity, Infinity), []);
              checkState(store, model);
              const uptimes = store.channelUptimes(now);
              for (const [cp, { pk, openedAt }] of model.channels) {
                const channel = store.channel(cp);
                assert.ok(channel);
                const log = model.peers.get(pk)?.monitor;
                assert.ok(log);
                const lifetime = now - openedAt > 0 ? now - openedAt : 0;
                const uptime = lifetime > 0 ? log.uptime(openedAt, now, now) : 0;
                assert.deepEqual(store.channelInfo(channel, now), { lifetime, uptime });
                assert.equal(store.channelUnobserved(channel, now), 0);
                const i = uptimes.channels.indexOf(channel);
                assert.equal(uptimes.lifetime[i], lifetime);
                assert.equal(uptimes.uptime[i], uptime);

                const span = Math.max(1, now - openedAt);
                for (const [a, b] of windows) {
                  const from = Math.round(openedAt + a * span);
                  const to = from + Math.round(b * span);
                  const latest = Math.max(openedAt, now);
                  const lo = Math.min(Math.max(from, openedAt), latest);
                  const hi = Math.min(Math.max(to, lo), latest);
                  assert.deepEqual(store.channelUptime(channel, from, to), {
                    from: lo,
                    to: hi,
                    uptime: hi > lo ? log.uptime(lo, hi, now) : 0,
                    observed: hi > lo ? hi - lo : 0,
                  });
                  const trailingOnline = lastState(log) === true;
                  const pfrom = Math.max(from, openedAt);
                  const pto = Math.min(to, now);
                  const expected: OnlinePeriod[] =
                    pto < pfrom
                      ? []
                      : log
                          .periods(now)
                          .map((p, k, all) => ({
                            start: Math.max(p.start, pfrom),
                            end: Math.min(p.end, pto),
                            ongoing: k === all.length - 1 && trailingOnline && pto >= now,
                          }))
                          .filter((p) => p.end > p.start);
                  assert.deepEqual(
                    store.onlinePeriods(channel, from, to).filter((p) => p.end > p.start),
                    expected,
                  );
                }
              }
            },
          );
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('with statuses, bootstraps and ticks, the figures add up and equal the model', async () => {
    await fc.assert(
      fc.asyncProperty(steps(true), settingsArb, async (history, settings) => {
        await run(history, settings, (store, model, now) => {
          checkState(store, model);
          // The gaps alike.
          assert.deepEqual(
            store.gaps(-Infinity, Infinity).map((g) => [g.start, g.end ?? Infinity]),
            model.gaps.map((g) => [g.start, g.end]),
            'gaps',
          );
          assert.equal(store.observed, !model.gaps.some((g) => g.end === Infinity || g.settling));
          near(store.unobservedTotal(now), model.unobserved(-Infinity, now), 'unobserved total');
          const uptimes = store.channelUptimes(now);
          for (const [cp, { pk, openedAt }] of model.channels) {
            const channel = store.channel(cp);
            assert.ok(channel);
            const peer = store.peer(pk);
            assert.ok(peer);
            const elapsed = Math.max(0, now - openedAt);
            const info = store.channelInfo(channel, now);
            const unobserved = store.channelUnobserved(channel, now);
            const expectedUnobserved = elapsed > 0 ? model.unobserved(openedAt, now) : 0;
            near(unobserved, expectedUnobserved, 'unobserved');
            near(info.lifetime, elapsed - expectedUnobserved, 'lifetime');
            near(info.uptime, elapsed > 0 ? model.uptime(pk, openedAt, now, now) : 0, 'uptime');
            assert.ok(
              info.uptime >= -EPS && info.uptime <= info.lifetime + EPS,
              'uptime in [0, lifetime]',
            );
            const i = uptimes.channels.indexOf(channel);
            assert.equal(uptimes.lifetime[i], info.lifetime, 'channelUptimes lifetime');
            assert.equal(uptimes.uptime[i], info.uptime, 'channelUptimes uptime');
            if (!(elapsed > 0)) continue;

            // uptime + downtime + unobserved = elapsed, downtime from the
            // offline periods (and the observed time before the log's first
            // event, which lnd counts as not online).
            const outages = store.peerOutages(peer, openedAt, now);
            assert.ok(outages);
            const offline = outages.periods.reduce((sum, p) => sum + (p.end - p.start), 0);
            const first = peer.log.committed()[0]?.time ?? peer.log.staged?.time ?? now;
            const beforeFirst = store.observedSince(
              openedAt,
              Math.min(Math.max(first, openedAt), now),
            );
            near(
              info.uptime + offline + beforeFirst + unobserved,
              elapsed,
              'up + down + unobserved',
            );

            // The window over the whole lifetime, and the periods.
            const window = store.channelUptime(channel, openedAt);
            near(window.uptime, info.uptime, 'window uptime');
            near(window.observed, info.lifetime, 'window observed');
            const periods = store
              .onlinePeriods(channel)
              .map((p): [number, number] => [p.start, p.end]);
            assert.deepEqual(joined(periods), model.onlineParts(pk, openedAt, now, now), 'periods');
            const half = openedAt + Math.round(elapsed / 2);
            const w = store.channelUptime(channel, half);
            near(w.uptime, model.uptime(pk, half, now, now), 'half window uptime');
            near(w.observed, now - half - model.unobserved(half, now), 'half window observed');
          }
          // A peer's uptime over its monitored time, while its log was never dropped.
          for (const [pk, peer] of model.peers) {
            const view = store.peer(pk);
            if (view === undefined || peer.cleared || view.channelCount === 0) continue;
            const { monitored, uptime } = store.peerUptime(view, now);
            const expected =
              Math.max(0, now - peer.createdAt) - model.unobserved(peer.createdAt, now);
            if (expected > EPS) {
              near(monitored, expected, 'peer monitored');
              near(uptime, model.uptime(pk, peer.createdAt, now, now), 'peer uptime');
            }
          }
        });
      }),
      { numRuns: 5000 },
    );
  });
});

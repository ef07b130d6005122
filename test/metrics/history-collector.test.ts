import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { HistoryStats } from '../../src/history/history-stats.js';
import { registerHistoryCollector } from '../../src/metrics/history-collector.js';
import { HISTORY_FAMILIES } from '../../src/metrics/metric-families.js';
import { TestClock } from '../support/test-clock.js';
import { HOUR, T0, makeSources } from './fixtures.js';
import { type Family, type Sample, parseExposition } from './text-format-parser.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const FAMILIES = Object.values(HISTORY_FAMILIES);
/** The families that have a sample as soon as history is on, before any write or restore. */
const ALWAYS = [
  'chanfitness_history_snapshot_writes_total',
  'chanfitness_history_restored',
  'chanfitness_history_restore_failures_total',
  'chanfitness_history_rejected_total',
  'chanfitness_history_pending_events',
  'chanfitness_history_pending_overflow_total',
  'chanfitness_history_compacted_events_total',
];

interface Scrape {
  readonly families: Map<string, Family>;
  /** The one sample of a family with these labels. */
  value(name: string, labels?: Record<string, string>): number;
  samples(name: string): Sample[];
}

function setup(): { stats: HistoryStats; clock: TestClock; scrape: () => Promise<Scrape> } {
  const stats = new HistoryStats();
  const clock = new TestClock(T0);
  const registry = new Registry();
  registerHistoryCollector(registry, stats, clock);
  const scrape = async (): Promise<Scrape> => {
    const families = parseExposition(await registry.metrics());
    const samples = (name: string): Sample[] => {
      const found = families.get(name);
      assert.ok(found, `family ${name} missing`);
      return found.samples;
    };
    return {
      families,
      samples,
      value(name, labels = {}) {
        const matching = samples(name).filter((s) =>
          Object.entries(labels).every(([k, v]) => s.labels[k] === v),
        );
        assert.equal(matching.length, 1, `${name}${JSON.stringify(labels)}: ${matching.length}`);
        return matching[0]!.value;
      },
    };
  };
  return { stats, clock, scrape };
}

/** A keeper that restored in 1.5 s and wrote two snapshots, the last ending at T0 + 1 h. */
function written(stats: HistoryStats): void {
  stats.enabled = true;
  stats.restored = true;
  stats.restoreDurationMs = 1500;
  stats.writeSuccess = 2;
  stats.lastWriteBytes = 123_456;
  stats.lastWriteDurationMs = 250;
  stats.lastWriteLongestStepMs = 12.5;
  stats.lastSuccessAt = T0 + HOUR;
}

describe('History collector', () => {
  it('declares every family with its TYPE and HELP, and no sample while history is off', async () => {
    const { stats, scrape } = setup();
    // Counts that a disabled keeper should never have, to show they are not read.
    stats.writeSuccess = 3;
    stats.lastSuccessAt = T0;
    stats.restored = true;
    const { families } = await scrape();
    for (const expected of FAMILIES) {
      const found = families.get(expected.name);
      assert.ok(found, expected.name);
      assert.equal(found.type, expected.type, expected.name);
      assert.equal(found.help, expected.help, expected.name);
      assert.deepEqual(found.samples, [], expected.name);
    }
    assert.deepEqual(
      [...families.keys()].filter((name) => name.startsWith('chanfitness_')).sort(),
      FAMILIES.map((f) => f.name).sort(),
    );
  });

  it('names families in base units, counters with _total', () => {
    for (const f of FAMILIES) {
      assert.match(f.name, /^chanfitness_history_[a-z_]+$/);
      assert.equal(f.type === 'counter', f.name.endsWith('_total'), f.name);
      assert.doesNotMatch(f.name, /_(ms|milliseconds|kb|kilobytes|minutes)(_|$)/, f.name);
      assert.ok(f.help.length > 40, `${f.name}: a HELP text an operator can act on`);
    }
  });

  it('reports the state at start with history on: counters at 0, not restored, no write yet', async () => {
    const { stats, scrape } = setup();
    stats.enabled = true;
    const s = await scrape();
    assert.equal(s.value('chanfitness_history_snapshot_writes_total', { result: 'success' }), 0);
    assert.equal(s.value('chanfitness_history_snapshot_writes_total', { result: 'error' }), 0);
    assert.equal(s.value('chanfitness_history_restored'), 0);
    assert.equal(s.value('chanfitness_history_restore_failures_total'), 0);
    assert.equal(s.value('chanfitness_history_rejected_total', { reason: 'format' }), 0);
    assert.equal(s.value('chanfitness_history_rejected_total', { reason: 'corrupt' }), 0);
    assert.equal(s.value('chanfitness_history_pending_events'), 0);
    assert.equal(s.value('chanfitness_history_pending_overflow_total'), 0);
    assert.equal(s.value('chanfitness_history_compacted_events_total'), 0);
    for (const name of FAMILIES.map((f) => f.name).filter((n) => !ALWAYS.includes(n))) {
      assert.deepEqual(s.samples(name), [], `${name} before the first success`);
    }
  });

  it('keeps the write figures absent after failed writes only', async () => {
    const { stats, scrape } = setup();
    stats.enabled = true;
    stats.restored = true;
    stats.restoreDurationMs = 40;
    stats.writeError = 4;
    const s = await scrape();
    assert.equal(s.value('chanfitness_history_snapshot_writes_total', { result: 'error' }), 4);
    assert.equal(s.value('chanfitness_history_snapshot_writes_total', { result: 'success' }), 0);
    assert.equal(s.value('chanfitness_history_restored'), 1);
    assert.equal(s.value('chanfitness_history_restore_duration_seconds'), 0.04);
    for (const name of [
      'chanfitness_history_snapshot_last_write_bytes',
      'chanfitness_history_snapshot_last_write_duration_seconds',
      'chanfitness_history_snapshot_last_write_longest_step_seconds',
      'chanfitness_history_last_snapshot_timestamp_seconds',
      'chanfitness_history_snapshot_age_seconds',
    ]) {
      assert.deepEqual(s.samples(name), [], name);
    }
  });

  it('exports every figure in base units once snapshots are written', async () => {
    const { stats, clock, scrape } = setup();
    written(stats);
    stats.writeError = 1;
    stats.restoreFailures = 3;
    stats.rejected.format = 2;
    stats.rejected.corrupt = 1;
    stats.pendingCounter = () => 42;
    stats.pendingOverflow = 7;
    stats.compactedEvents = 9001;
    clock.set(T0 + HOUR + 90 * SECOND);
    const s = await scrape();
    assert.equal(s.value('chanfitness_history_snapshot_writes_total', { result: 'success' }), 2);
    assert.equal(s.value('chanfitness_history_snapshot_writes_total', { result: 'error' }), 1);
    assert.equal(s.value('chanfitness_history_snapshot_last_write_bytes'), 123_456);
    assert.equal(s.value('chanfitness_history_snapshot_last_write_duration_seconds'), 0.25);
    assert.equal(s.value('chanfitness_history_snapshot_last_write_longest_step_seconds'), 0.0125);
    assert.equal(
      s.value('chanfitness_history_last_snapshot_timestamp_seconds'),
      (T0 + HOUR) / 1000,
    );
    assert.equal(s.value('chanfitness_history_snapshot_age_seconds'), 90);
    assert.equal(s.value('chanfitness_history_restore_duration_seconds'), 1.5);
    assert.equal(s.value('chanfitness_history_restored'), 1);
    assert.equal(s.value('chanfitness_history_restore_failures_total'), 3);
    assert.equal(s.value('chanfitness_history_rejected_total', { reason: 'format' }), 2);
    assert.equal(s.value('chanfitness_history_rejected_total', { reason: 'corrupt' }), 1);
    assert.equal(s.value('chanfitness_history_pending_events'), 42);
    assert.equal(s.value('chanfitness_history_pending_overflow_total'), 7);
    assert.equal(s.value('chanfitness_history_compacted_events_total'), 9001);
    for (const f of FAMILIES) {
      for (const sample of s.samples(f.name)) {
        assert.deepEqual(Object.keys(sample.labels), [...f.labels], f.name);
      }
    }
  });

  it('computes the age from the clock at each scrape, and from the latest write', async () => {
    const { stats, clock, scrape } = setup();
    written(stats);
    clock.set(T0 + HOUR);
    assert.equal((await scrape()).value('chanfitness_history_snapshot_age_seconds'), 0);
    clock.set(T0 + HOUR + 14 * MINUTE + 500);
    assert.equal((await scrape()).value('chanfitness_history_snapshot_age_seconds'), 840.5);
    stats.writeSuccess += 1;
    stats.lastSuccessAt = T0 + HOUR + 14 * MINUTE;
    const s = await scrape();
    assert.equal(s.value('chanfitness_history_snapshot_age_seconds'), 0.5);
    assert.equal(
      s.value('chanfitness_history_last_snapshot_timestamp_seconds'),
      (T0 + HOUR + 14 * MINUTE) / 1000,
    );
    // A clock stepped back before the write: an age of 0, never negative.
    clock.set(T0);
    assert.equal((await scrape()).value('chanfitness_history_snapshot_age_seconds'), 0);
  });

  it('reads the stats live: turning history off removes every sample', async () => {
    const { stats, clock, scrape } = setup();
    written(stats);
    clock.set(T0 + 2 * HOUR);
    assert.equal((await scrape()).value('chanfitness_history_snapshot_age_seconds'), 3600);
    stats.enabled = false;
    const s = await scrape();
    for (const f of FAMILIES) assert.deepEqual(s.samples(f.name), [], f.name);
  });
});

describe('Exposition with history stats', () => {
  it('renders the history families only when the sources have history stats', async () => {
    const without = makeSources({ history: false });
    const withHistory = makeSources();
    const name = 'chanfitness_history_restored';
    const plain = parseExposition(await without.exposition.renderToString());
    assert.equal(plain.has(name), false);
    withHistory.history!.enabled = true;
    const families = parseExposition(await withHistory.exposition.renderToString());
    assert.deepEqual(
      families.get(name)?.samples.map((s) => s.value),
      [0],
    );
    // The exposition's clock is the one the age is computed with.
    withHistory.history!.lastSuccessAt = T0;
    withHistory.clock.set(T0 + 30 * SECOND);
    const later = parseExposition(await withHistory.exposition.renderToString());
    assert.deepEqual(
      later.get('chanfitness_history_snapshot_age_seconds')?.samples.map((s) => s.value),
      [30],
    );
  });
});

import assert from 'node:assert/strict';
import { STOP_BUDGET_MS, stopSequence, type StopParts } from '../../src/app-stop.js';
import { captureLogger } from '../support/log-capture.js';
import { TEST_NOW, TestClock } from '../support/test-clock.js';

const never = (): Promise<never> => new Promise<never>(() => undefined);

/** Parts that record when each step starts (on the clock) and answer as `hang` says. */
function parts(clock: TestClock, hang: ReadonlySet<string> = new Set()) {
  const steps: [string, number][] = [];
  const step = (name: string) => (): Promise<void> => {
    steps.push([name, clock.now() - TEST_NOW]);
    return hang.has(name) ? never() : Promise.resolve();
  };
  const limits: Record<string, number> = {};
  const stop: StopParts = {
    stopConsuming: () => {
      steps.push(['stopConsuming', clock.now() - TEST_NOW]);
    },
    jetstream: () => ({
      stop: (timeoutMs) => {
        limits.jetstream = timeoutMs;
        return step('jetstream')();
      },
    }),
    gate: { idle: step('gate') },
    keeper: { stop: step('keeper') },
    flusher: { stop: step('flusher') },
    records: { close: step('records') },
    nats: {
      close: (timeoutMs) => {
        limits.nats = timeoutMs;
        return step('nats')();
      },
    },
    consuming: hang.has('consuming') ? never() : Promise.resolve(),
    events: {
      close: () => {
        steps.push(['events', clock.now() - TEST_NOW]);
      },
    },
    http: { close: step('http') },
  };
  return { stop, steps, limits };
}

describe('the stop sequence (on the TestClock)', () => {
  it('stops consuming, keeps the data, then closes, in that order', async () => {
    const clock = new TestClock(TEST_NOW);
    const log = captureLogger();
    const { stop, steps, limits } = parts(clock);
    await clock.runUntil(stopSequence(stop, clock, log.logger));
    assert.deepEqual(
      steps.map(([name]) => name),
      [
        'stopConsuming',
        'jetstream',
        'gate',
        'keeper',
        'flusher',
        'records',
        'nats',
        'events',
        'http',
      ],
    );
    assert.deepEqual(limits, {
      jetstream: STOP_BUDGET_MS.drainReads,
      nats: STOP_BUDGET_MS.closeNats,
    });
    assert.equal(clock.now(), TEST_NOW, 'nothing waited');
    assert.equal(log.lines().at(-1)?.msg, 'stopped');
    assert.equal(log.lines().at(-1)?.ms, 0);
  });

  it('gives a step that hangs its share, and cuts the later ones to what is left of the total', async () => {
    const clock = new TestClock(TEST_NOW);
    const log = captureLogger();
    const { stop, steps, limits } = parts(clock, new Set(['keeper', 'flusher', 'records']));
    await clock.runUntil(stopSequence(stop, clock, log.logger));
    assert.deepEqual(steps, [
      ['stopConsuming', 0],
      ['jetstream', 0],
      ['gate', 0],
      ['keeper', 0],
      // The final snapshot's 3 s, then the flush's 4 s, then the 1 s left for the store.
      ['flusher', STOP_BUDGET_MS.finalSnapshot],
      ['records', STOP_BUDGET_MS.finalSnapshot + STOP_BUDGET_MS.finalFlush],
      ['nats', STOP_BUDGET_MS.total],
      ['events', STOP_BUDGET_MS.total],
      ['http', STOP_BUDGET_MS.total],
    ]);
    assert.equal(limits.nats, 0, 'nothing left for NATS: closed without a drain');
    assert.equal(clock.now(), TEST_NOW + STOP_BUDGET_MS.total);
    assert.equal(log.lines().at(-1)?.ms, STOP_BUDGET_MS.total);
  });

  it('cuts a hanging JetStream drain at its share', async () => {
    const clock = new TestClock(TEST_NOW);
    const log = captureLogger();
    const { stop, steps } = parts(clock, new Set(['jetstream']));
    await clock.runUntil(stopSequence(stop, clock, log.logger));
    assert.deepEqual(
      steps.find(([name]) => name === 'gate'),
      ['gate', STOP_BUDGET_MS.drainReads],
    );
    assert.equal(log.lines().at(-1)?.ms, STOP_BUDGET_MS.drainReads);
  });
});

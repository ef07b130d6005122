import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { OnlineLog } from '../../src/store/online-log.js';
import { ReferencePeerLog } from './reference-peer-log.js';
// Long logs (past the directory threshold) built in steps with queries in between, against the oracle.
const gap = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 1, max: 5 }),
  fc.integer({ min: 1, max: 1000 }),
  fc.integer({ min: 1, max: 10_000_000 }),
  fc.double({ min: 0, max: 3, noNaN: true }),
);
describe('time directory', () => {
  it('answers uptime and periods as the oracle on long logs', () => {
    let checks = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(gap, fc.boolean()), { minLength: 200, maxLength: 3000, size: 'max' }),
        fc.array(
          fc.tuple(
            fc.double({ min: -0.1, max: 1.1, noNaN: true }),
            fc.double({ min: 0, max: 0.5, noNaN: true }),
          ),
          { minLength: 3, maxLength: 10 },
        ),
        fc.integer({ min: 2, max: 6 }),
        (steps, windows, rounds) => {
          const log = new OnlineLog();
          const ref = new ReferencePeerLog(0, undefined);
          ref.channels.set('x', 0);
          let t = 1e12;
          const per = Math.ceil(steps.length / rounds);
          for (let r = 0; r < rounds; r++) {
            for (const [g, online] of steps.slice(r * per, (r + 1) * per)) {
              t += g;
              log.add({ time: t, online }, -1);
              // the oracle with limit -1: commit whenever staged.time + (-1) < time, i.e. always
              if (ref.staged !== undefined) ref.events.push(ref.staged);
              ref.staged = { time: t, online };
            }
            const now = t + 10;
            const t0 = 1e12;
            for (const [a, b] of windows) {
              const from = t0 + a * (t - t0);
              const to = from + b * (t - t0);
              assert.equal(log.uptime(from, to, now), ref.uptime(from, to, now));
              const got = log.periods(from, to, now).map((p) => ({ start: p.start, end: p.end }));
              const exp = ref
                .periods(now)
                .map((p) => ({ start: Math.max(p.start, from), end: Math.min(p.end, to) }))
                .filter((p) => p.end > p.start);
              assert.deepEqual(
                got.filter((p) => p.end > p.start),
                exp,
              );
              checks++;
            }
          }
        },
      ),
      { numRuns: 300 },
    );
    assert.ok(checks > 0);
  });
});

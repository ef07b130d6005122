import assert from 'node:assert/strict';
import { PromqlScanError, promqlMetricNames } from './promql-metric-names.js';

const names = (expr: string): string[] => [...promqlMetricNames(expr)].sort();

describe('promqlMetricNames', () => {
  it('finds a selector inside functions and aggregations, not the functions or labels', () => {
    assert.deepEqual(
      names('sum by (node, kind) (rate(chanfitness_events_total{node=~"a|b", job="x"}[5m]))'),
      ['chanfitness_events_total'],
    );
  });

  it('finds bare selectors on both sides of binary and set operators', () => {
    assert.deepEqual(
      names(
        'a > on (job, instance) b or on (job) c unless ignoring (x) d * on (n) group_left (y) e',
      ),
      ['a', 'b', 'c', 'd', 'e'],
    );
  });

  it('skips the grouping clause after the aggregation, and keywords in any case', () => {
    assert.deepEqual(names('SUM(x) BY (node) / Count WITHOUT (peer) (y)'), ['x', 'y']);
  });

  it('keeps recording-rule names with colons', () => {
    assert.deepEqual(names('chanfitness:peer_flaps:increase1h > bool 6'), [
      'chanfitness:peer_flaps:increase1h',
    ]);
  });

  it('reads __name__ matchers and ignores strings that look like selectors', () => {
    assert.deepEqual(
      names('label_replace({__name__="foo", a="b"}, "dst", "$1 bar{x}", "src", "(.*)")'),
      ['foo'],
    );
  });

  it('skips numbers, durations, offsets and subqueries', () => {
    assert.deepEqual(
      names('1e-3 * x offset 5m + 0x1F * max_over_time(y[1h30m:1m]) + Inf - NaN + .5'),
      ['x', 'y'],
    );
  });

  it('treats a function-named identifier without a call as a metric', () => {
    assert.deepEqual(names('rate + time()'), ['rate']);
  });

  it('skips comments', () => {
    assert.deepEqual(names('# the uptime\nx # of y\n'), ['x']);
  });

  it('refuses a Grafana variable left in the expression', () => {
    assert.throws(
      () => promqlMetricNames('rate(x[$__rate_interval])'),
      (e: unknown) => e instanceof PromqlScanError && e.code === 'PROMQL_UNSUBSTITUTED_VARIABLE',
    );
  });

  it('refuses characters PromQL does not have', () => {
    assert.throws(
      () => promqlMetricNames('x ; y'),
      (e: unknown) => e instanceof PromqlScanError && e.code === 'PROMQL_UNEXPECTED_CHARACTER',
    );
  });
});

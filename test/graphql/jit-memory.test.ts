import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { JIT_MEMOIZE_CACHE } from '../../src/graphql/jit-memory.js';
import { buildSchema, parse } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { loadSchemaSource } from '../../src/graphql/schema-file.js';

/** A full garbage collection, without starting node with --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

describe("what compiling a query keeps outside the exporter's caches", () => {
  it("gives graphql-jit's memoized helpers a weak cache", () => {
    const fromJit = createRequire(createRequire(import.meta.url).resolve('graphql-jit'));
    const memoize = fromJit('lodash.memoize') as { Cache?: unknown };
    assert.equal(memoize.Cache, JIT_MEMOIZE_CACHE);
    const cache = new JIT_MEMOIZE_CACHE();
    const key = {};
    assert.equal(cache.set(key, 1).set('name', 2), cache);
    assert.deepEqual([cache.has(key), cache.get(key), cache.get('name')], [true, 1, 2]);
    assert.ok(cache.delete('name'));
    cache.clear();
    assert.equal(cache.has(key), false);
  });

  it('keeps next to nothing of a compiled query once it is dropped', () => {
    const schema = buildSchema(loadSchemaSource());
    const doc = (i: number): string =>
      `{ c${i}: channels(first: 20) { totalCount nodes { node channelPoint lifetimeSeconds uptimeRatio peer { pubkey online flapCount lastFlap } } pageInfo { endCursor hasNextPage } } }`;
    const compile = (i: number): void => {
      assert.ok(isCompiledQuery(compileQuery(schema, parse(doc(i)))));
    };
    for (let i = 0; i < 20; i++) compile(1_000_000 + i);
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    const count = 300;
    for (let i = 0; i < count; i++) compile(i);
    collectGarbage();
    const perQuery = (process.memoryUsage().heapUsed - before) / count;
    // About 40 KB each with V8's compilation cache and lodash's Map; under 1 KB without.
    assert.ok(perQuery < 8_000, `${Math.round(perQuery)} bytes kept per compiled query`);
  });
});

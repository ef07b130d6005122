import assert from 'node:assert/strict';
import { BoundedCache } from '../../src/graphql/bounded-cache.js';

/** A cache whose entries weigh what their value says. */
function cache(maxEntries: number, maxBytes: number): BoundedCache<number> {
  return new BoundedCache<number>({ maxEntries, maxBytes }, (_key, bytes) => bytes);
}

function keys(c: BoundedCache<number>, candidates: readonly string[]): string[] {
  return candidates.filter((k) => c.peek(k) !== undefined);
}

describe('BoundedCache', () => {
  it('keeps at most maxEntries entries, dropping the oldest unused first', () => {
    const c = cache(3, 1_000);
    for (const k of ['a', 'b', 'c', 'd', 'e']) c.set(k, 1);
    assert.equal(c.size, 3);
    assert.deepEqual(keys(c, ['a', 'b', 'c', 'd', 'e']), ['c', 'd', 'e']);
    assert.equal(c.bytes, 3);
  });

  it('keeps at most maxBytes estimated bytes, dropping as many entries as it takes', () => {
    const c = cache(100, 100);
    c.set('a', 40);
    c.set('b', 40);
    c.set('c', 20);
    assert.equal(c.bytes, 100);
    c.set('d', 70); // a and b must go: 20 + 70 fits, 40 + 20 + 70 does not
    assert.deepEqual(keys(c, ['a', 'b', 'c', 'd']), ['c', 'd']);
    assert.equal(c.bytes, 90);
    assert.equal(c.size, 2);
  });

  it('does not keep an entry larger than maxBytes, nor drop others for it', () => {
    const c = cache(10, 100);
    c.set('a', 50);
    c.set('huge', 101);
    assert.equal(c.get('huge'), undefined);
    assert.equal(c.get('a'), 50);
    assert.equal(c.bytes, 50);
  });

  it('gives an entry read since its insertion a second chance', () => {
    const c = cache(3, 1_000);
    for (const k of ['a', 'b', 'c']) c.set(k, 1);
    assert.equal(c.get('a'), 1); // a is in use: b, the oldest unused, goes instead
    c.set('d', 1);
    assert.deepEqual(keys(c, ['a', 'b', 'c', 'd']), ['a', 'c', 'd']);
    // a's mark was spent: with nothing read since, it is the oldest again.
    c.set('e', 1);
    c.set('f', 1);
    assert.deepEqual(keys(c, ['a', 'c', 'd', 'e', 'f']), ['d', 'e', 'f']);
  });

  it('evicts even when every entry is in use', () => {
    const c = cache(2, 1_000);
    c.set('a', 1);
    c.set('b', 1);
    c.get('a');
    c.get('b');
    c.set('c', 1);
    assert.equal(c.size, 2);
    assert.equal(c.peek('c'), 1);
  });

  it('replaces an entry in place of adding it twice', () => {
    const c = cache(10, 100);
    c.set('a', 30);
    c.set('a', 50);
    assert.equal(c.size, 1);
    assert.equal(c.bytes, 50);
  });

  it('reweighs an entry, evicting others (or itself) to stay within maxBytes', () => {
    const c = cache(10, 100);
    c.set('a', 30);
    c.set('b', 30);
    c.reweigh('a', 80);
    assert.deepEqual(keys(c, ['a', 'b']), ['a']);
    assert.equal(c.bytes, 80);
    assert.equal(c.peek('a'), 30, 'the value is kept');
    c.reweigh('a', 101);
    assert.equal(c.size, 0);
    assert.equal(c.bytes, 0);
    c.reweigh('absent', 10);
    assert.equal(c.size, 0);
  });

  it('keeps nothing with a bound of 0', () => {
    const entries = cache(0, 100);
    entries.set('a', 1);
    const bytes = cache(10, 0);
    bytes.set('a', 1);
    assert.equal(entries.size + bytes.size, 0);
  });
});

import assert from 'node:assert/strict';
import { BatchLoader } from '../../src/persistence/batch-loader.js';

describe('BatchLoader', () => {
  it('coalesces the loads of a macrotask into batches of bounded size', async () => {
    const batches: string[][] = [];
    const loader = new BatchLoader<string>(
      (keys) => {
        batches.push([...keys]);
        return Promise.resolve(keys.map((k) => k.toUpperCase()));
      },
      { maxBatchSize: 4 },
    );
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'a'];
    const values = await Promise.all(keys.map((k) => loader.load(k)));
    assert.deepEqual(values, ['A', 'B', 'C', 'D', 'E', 'F', 'A']);
    assert.deepEqual(batches, [
      ['a', 'b', 'c', 'd'],
      ['e', 'f', 'a'],
    ]);
  });

  it('loads a key asked twice in one batch once', async () => {
    let loaded = 0;
    const loader = new BatchLoader<number>(
      (keys) => {
        loaded += keys.length;
        return Promise.resolve(keys.map(() => 1));
      },
      { maxBatchSize: 10 },
    );
    await Promise.all([loader.load('x'), loader.load('x'), loader.load('y')]);
    assert.equal(loaded, 2);
  });

  it('rejects every load of a failed batch', async () => {
    const loader = new BatchLoader<number>(() => Promise.reject(new Error('down')), {
      maxBatchSize: 10,
    });
    const results = await Promise.allSettled([loader.load('x'), loader.load('y')]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
  });

  it('rejects when the batch answers the wrong number of values, or throws', async () => {
    const short = new BatchLoader<number>(() => Promise.resolve([1]), { maxBatchSize: 10 });
    const results = await Promise.allSettled([short.load('x'), short.load('y')]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    const throwing = new BatchLoader<number>(
      () => {
        throw new Error('sync');
      },
      { maxBatchSize: 10 },
    );
    await assert.rejects(throwing.load('x'), /sync/);
  });
});

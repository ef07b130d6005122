import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PersistenceError } from '../../src/persistence/errors.js';
import type { KeyvBackendOptions } from '../../src/persistence/keyv-backend.js';
import { openSqliteBackend, type MakeFolder } from '../../src/persistence/sqlite-backend.js';
import { TEST_NOW, TestClock } from '../support/test-clock.js';

const TIMEOUT_MS = 300;

/** The rejection of `opening`, and how long it took on the clock. */
async function failure(
  opening: Promise<unknown>,
  clock: TestClock,
): Promise<{ err: unknown; ms: number }> {
  const start = clock.now();
  try {
    await opening;
  } catch (err) {
    return { err, ms: clock.now() - start };
  }
  assert.fail('the store opened');
}

/** Settles the promise's outcome, for a test to look at it while the clock stands still. */
function outcomeOf(promise: Promise<unknown>): { settled: boolean } {
  const outcome = { settled: false };
  promise.then(
    () => (outcome.settled = true),
    () => (outcome.settled = true),
  );
  return outcome;
}

describe('opening the SQLite store (its timeout on the TestClock)', () => {
  let dir: string;
  let clock: TestClock;
  let OPTIONS: KeyvBackendOptions;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chanfitness-sqlite-open-'));
    clock = new TestClock(TEST_NOW);
    OPTIONS = { namespace: 'test', timeoutMs: TIMEOUT_MS, clock };
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // A recursive mkdir under /proc never returns on Linux (it spins): injected here, so
  // that the test process holds no such thread.
  it('gives up on a folder that is never created, at the timeout, naming --store.url', async () => {
    const hanging: MakeFolder = () => new Promise<never>(() => undefined);
    const path = join(dir, 'never', 'flaps.sqlite');
    const opening = openSqliteBackend(path, OPTIONS, hanging);
    const outcome = outcomeOf(opening);
    await clock.tickAsync(TIMEOUT_MS - 1);
    assert.equal(outcome.settled, false, 'not before the timeout');
    await clock.tickAsync(1);
    assert.equal(outcome.settled, true, 'at the timeout');
    const { err } = await failure(opening, clock);
    assert.ok(err instanceof PersistenceError, String(err));
    assert.equal(err.code, 'STORE_OPEN_FAILED');
    assert.equal(
      err.message,
      `--store.url (STORE_URL): opening the SQLite file ${path} timed out while creating its ` +
        'folder: it took longer than --store.timeout (STORE_TIMEOUT), 300ms',
    );
  });

  it('opens a store whose folder takes most of the timeout', async () => {
    const slow: MakeFolder = async (folder) => {
      await clock.sleep(TIMEOUT_MS - 100);
      return mkdir(folder, { recursive: true });
    };
    const opening = openSqliteBackend(join(dir, 'slow', 'flaps.sqlite'), OPTIONS, slow);
    await clock.tickAsync(TIMEOUT_MS - 100);
    const backend = await opening;
    await backend.close();
  });

  it('does not open the file when the folder comes after the timeout', async () => {
    let created!: () => void;
    const folderCreated = new Promise<void>((resolve) => (created = resolve));
    const late: MakeFolder = async (folder) => {
      await clock.sleep(TIMEOUT_MS + 100);
      await mkdir(folder, { recursive: true });
      created();
    };
    const path = join(dir, 'late', 'flaps.sqlite');
    const failed = failure(openSqliteBackend(path, OPTIONS, late), clock);
    await clock.tickAsync(TIMEOUT_MS);
    await failed;
    await clock.tickAsync(100);
    await folderCreated;
    // Real I/O, not time: a wrongly resumed opening would have created the file by now.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(existsSync(join(dir, 'late')), 'the folder came');
    assert.ok(!existsSync(path), 'the file was not opened by an abandoned opening');
  });

  it('creates the folders and opens the file within the timeout', async () => {
    const path = join(dir, 'a', 'b', 'flaps.sqlite');
    const backend = await openSqliteBackend(path, OPTIONS);
    try {
      await backend.keyv.set('k', 'v');
      assert.equal(await backend.keyv.get('k'), 'v');
      assert.ok(existsSync(path));
    } finally {
      await backend.close();
    }
  });

  it('still says at once when the folder cannot be created', async () => {
    const refused: MakeFolder = () => Promise.reject(new Error('EACCES: permission denied'));
    const path = join(dir, 'x', 'flaps.sqlite');
    const { err, ms } = await failure(openSqliteBackend(path, OPTIONS, refused), clock);
    assert.ok(err instanceof PersistenceError);
    assert.equal(
      err.message,
      `--store.url (STORE_URL): cannot create the folder of the SQLite file ${path}: EACCES: permission denied`,
    );
    assert.equal(ms, 0, 'without the clock moving to the timeout');
  });
});

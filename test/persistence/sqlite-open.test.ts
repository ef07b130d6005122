import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PersistenceError } from '../../src/persistence/errors.js';
import type { KeyvBackendOptions } from '../../src/persistence/keyv-backend.js';
import { openSqliteBackend, type MakeFolder } from '../../src/persistence/sqlite-backend.js';

const TIMEOUT_MS = 300;
const OPTIONS: KeyvBackendOptions = { namespace: 'test', timeoutMs: TIMEOUT_MS };

/** The rejection of `opening`, and how long it took. */
async function failure(opening: Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const start = performance.now();
  try {
    await opening;
  } catch (err) {
    return { err, ms: performance.now() - start };
  }
  assert.fail('the store opened');
}

describe('opening the SQLite store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chanfitness-sqlite-open-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // A recursive mkdir under /proc never returns on Linux (it spins): injected here, so
  // that the test process holds no such thread.
  it('gives up on a folder that is never created, at the timeout, naming --store.url', async () => {
    const hanging: MakeFolder = () => new Promise<never>(() => undefined);
    const path = join(dir, 'never', 'flaps.sqlite');
    const { err, ms } = await failure(openSqliteBackend(path, OPTIONS, hanging));
    assert.ok(err instanceof PersistenceError, String(err));
    assert.equal(err.code, 'STORE_OPEN_FAILED');
    assert.equal(
      err.message,
      `--store.url (STORE_URL): opening the SQLite file ${path} timed out while creating its ` +
        'folder: it took longer than --store.timeout (STORE_TIMEOUT), 300ms',
    );
    assert.ok(ms >= TIMEOUT_MS - 5 && ms < TIMEOUT_MS + 500, `gave up after ${Math.round(ms)} ms`);
  });

  it('opens a store whose folder takes most of the timeout', async () => {
    const slow: MakeFolder = async (folder) => {
      await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS - 100));
      return mkdir(folder, { recursive: true });
    };
    const backend = await openSqliteBackend(join(dir, 'slow', 'flaps.sqlite'), OPTIONS, slow);
    await backend.close();
  });

  it('does not open the file when the folder comes after the timeout', async () => {
    let created!: () => void;
    const folderCreated = new Promise<void>((resolve) => (created = resolve));
    const late: MakeFolder = async (folder) => {
      await new Promise((resolve) => setTimeout(resolve, TIMEOUT_MS + 100));
      await mkdir(folder, { recursive: true });
      created();
    };
    const path = join(dir, 'late', 'flaps.sqlite');
    await failure(openSqliteBackend(path, OPTIONS, late));
    await folderCreated;
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
    const { err, ms } = await failure(openSqliteBackend(path, OPTIONS, refused));
    assert.ok(err instanceof PersistenceError);
    assert.equal(
      err.message,
      `--store.url (STORE_URL): cannot create the folder of the SQLite file ${path}: EACCES: permission denied`,
    );
    assert.ok(ms < TIMEOUT_MS, 'not at the timeout');
  });
});

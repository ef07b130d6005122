import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import type { StoredData } from 'keyv';
import { systemScheduler } from '../clock.js';
import { describeSetting } from '../config/settings-reader.js';
import { PersistenceError, storeErrorMessage } from './errors.js';
import { newKeyv, type KeyvBackend, type KeyvBackendOptions } from './keyv-backend.js';
import { withTimeout } from './timeout.js';

/**
 * @keyv/sqlite without setMany makes Keyv write key by key, one transaction
 * (and one disk sync) each; this writes a batch in one statement. Its getMany
 * matches every key against every row (quadratic: a 1,000-key batch cost more
 * than its query); this one matches through a map.
 */
class BatchingKeyvSqlite extends KeyvSqlite {
  override async getMany<Value>(keys: string[]): Promise<StoredData<Value | undefined>[]> {
    const rows = (await this.query(
      `SELECT key, value FROM ${this.opts.table ?? 'keyv'} WHERE key IN (SELECT value FROM json_each(?))`,
      JSON.stringify(keys),
    )) as { key: string; value: StoredData<Value> }[];
    const values = new Map<string, StoredData<Value>>();
    for (const row of rows) values.set(row.key, row.value);
    return keys.map((key) => values.get(key));
  }

  async setMany(entries: readonly { key: string; value: unknown }[]): Promise<void> {
    // Bound parameters, not one JSON text of the batch: that text (every value
    // escaped once more) was one more large string per batch for V8 to collect.
    for (let from = 0; from < entries.length; from += SET_MANY_ROWS) {
      const rows = entries.slice(from, from + SET_MANY_ROWS);
      await this.query(
        `INSERT INTO ${this.opts.table ?? 'keyv'} (key, value) VALUES ${rows.map(() => '(?, ?)').join(', ')}
         ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
        rows.flatMap(({ key, value }) => [key, value]),
      );
    }
  }
}

/** Rows per INSERT: two parameters each, within SQLite's 32,766. */
const SET_MANY_ROWS = 4096;

/** How the errors of opening name the setting at fault. */
const STORE_URL = describeSetting('store.url');

/** Creates the folder of the SQLite file; injectable, so that a hang can be tested anywhere. */
export type MakeFolder = (folder: string) => Promise<unknown>;

const makeFolderRecursively: MakeFolder = (folder) => mkdir(folder, { recursive: true });

/**
 * Opens the SQLite file at `path` (absolute, or `:memory:`), creating its
 * folder. Unlike the network backends, a file that cannot be opened is an
 * error at start-up (STORE_OPEN_FAILED, naming --store.url: a setting to fix):
 * it will not come back by itself. The whole opening, folder included, is
 * bounded by the timeout: a recursive mkdir under /proc never returns.
 */
export async function openSqliteBackend(
  path: string,
  options: KeyvBackendOptions,
  makeFolder: MakeFolder = makeFolderRecursively,
): Promise<KeyvBackend> {
  let step = 'creating its folder';
  const abandoned = new AbortController();
  const opening = (async () => {
    if (path !== ':memory:') await createFolder(path, makeFolder);
    // Past the timeout nobody would close the file: leave it unopened.
    if (abandoned.signal.aborted) {
      throw new PersistenceError('STORE_OPEN_FAILED', 'abandoned at the timeout');
    }
    step = 'opening the file';
    return openFile(path, options.timeoutMs);
  })();
  let adapter: BatchingKeyvSqlite;
  try {
    adapter = await withTimeout(
      options.clock ?? systemScheduler,
      opening,
      options.timeoutMs,
      'opening the SQLite store',
    );
  } catch (err) {
    if (!(err instanceof PersistenceError && err.code === 'STORE_TIMEOUT')) throw err;
    abandoned.abort();
    // A file opened late after all is closed: nobody will use it.
    opening.then(
      (late) => late.disconnect().catch(() => undefined),
      () => undefined,
    );
    throw new PersistenceError(
      'STORE_OPEN_FAILED',
      `${STORE_URL}: opening the SQLite file ${path} timed out while ${step}: it took longer ` +
        `than ${describeSetting('store.timeout')}, ${durationText(options.timeoutMs)}`,
      { cause: err },
    );
  }
  const keyv = newKeyv(adapter, options.namespace, true);
  return {
    kind: 'sqlite',
    keyv,
    ready: () => Promise.resolve(),
    repair: () => Promise.resolve(false),
    close: () => adapter.disconnect(),
  };
}

async function createFolder(path: string, makeFolder: MakeFolder): Promise<void> {
  try {
    await makeFolder(dirname(path));
  } catch (err) {
    throw new PersistenceError(
      'STORE_OPEN_FAILED',
      `${STORE_URL}: cannot create the folder of the SQLite file ${path}: ${storeErrorMessage(err)}`,
      { cause: err },
    );
  }
}

async function openFile(path: string, busyTimeoutMs: number): Promise<BatchingKeyvSqlite> {
  const adapter = new BatchingKeyvSqlite({ uri: `sqlite://${path}`, busyTimeout: busyTimeoutMs });
  // The adapter opens the file in the background and a failure rejects every
  // later query: asking now reports it at start-up (and handles that rejection).
  // WAL with synchronous=NORMAL syncs at checkpoints, not at every flush's commits.
  try {
    await adapter.query('PRAGMA journal_mode = WAL');
    await adapter.query('PRAGMA synchronous = NORMAL');
  } catch (err) {
    await adapter.disconnect().catch(() => undefined);
    // SQLite's own words ("file is not a database") do not say which file, nor what to do.
    const problem = isNotADatabase(err)
      ? `${path} is not an SQLite file (SQLITE_NOTADB): use another path, or move this file away`
      : `cannot open the SQLite file ${path}: ${storeErrorMessage(err)}`;
    throw new PersistenceError('STORE_OPEN_FAILED', `${STORE_URL}: ${problem}`, { cause: err });
  }
  return adapter;
}

/** SQLITE_NOTADB: the file exists but is not an SQLite database (nor an empty file). */
function isNotADatabase(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'SQLITE_NOTADB';
}

/** `5s`, `1500ms`: a --store.timeout as an operator would write it. */
function durationText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

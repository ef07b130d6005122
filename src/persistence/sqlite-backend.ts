import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import KeyvSqlite from '@keyv/sqlite';
import type { StoredData } from 'keyv';
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

/**
 * Opens the SQLite file at `path` (absolute, or `:memory:`), creating its
 * folder. Unlike the network backends, a file that cannot be opened is an
 * error at start-up (STORE_OPEN_FAILED, naming --store.url: a setting to fix):
 * it will not come back by itself.
 */
export async function openSqliteBackend(
  path: string,
  options: KeyvBackendOptions,
): Promise<KeyvBackend> {
  if (path !== ':memory:') {
    try {
      await mkdir(dirname(path), { recursive: true });
    } catch (err) {
      throw new PersistenceError(
        'STORE_OPEN_FAILED',
        `--store.url: cannot create the folder of the SQLite file ${path}: ${storeErrorMessage(err)}`,
        { cause: err },
      );
    }
  }
  const adapter = new BatchingKeyvSqlite({
    uri: `sqlite://${path}`,
    busyTimeout: options.timeoutMs,
  });
  const keyv = newKeyv(adapter, options.namespace, true);
  // The adapter opens the file in the background and a failure rejects every
  // later query: asking now reports it at start-up (and handles that rejection).
  // WAL with synchronous=NORMAL syncs at checkpoints, not at every flush's commits.
  try {
    await withTimeout(
      adapter.query('PRAGMA journal_mode = WAL'),
      options.timeoutMs,
      'opening the SQLite store',
    );
    await adapter.query('PRAGMA synchronous = NORMAL');
  } catch (err) {
    await adapter.disconnect().catch(() => undefined);
    throw new PersistenceError(
      'STORE_OPEN_FAILED',
      `--store.url: cannot open the SQLite file ${path}: ${storeErrorMessage(err)}`,
      { cause: err },
    );
  }
  return {
    kind: 'sqlite',
    keyv,
    ready: () => Promise.resolve(),
    repair: () => Promise.resolve(false),
    close: () => adapter.disconnect(),
  };
}

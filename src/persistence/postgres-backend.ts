import type { EventEmitter } from 'node:events';
import KeyvPostgres from '@keyv/postgres';
import type { Keyv } from 'keyv';
import { PersistenceError } from './errors.js';
import { newKeyv, type KeyvBackend, type KeyvBackendOptions } from './keyv-backend.js';

const DEFAULT_TABLE = 'keyv';
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const UNDEFINED_TABLE = '42P01';
/** Raised when two sessions create the same table at once: it exists. */
const UNIQUE_VIOLATION = '23505';

/**
 * PostgreSQL through @keyv/postgres, hardened:
 * - its pg.Pool has no 'error' listener, so an idle connection dropped by the
 *   server (a restart) would crash the process with an unhandled 'error';
 * - it creates its table only once, when constructed: with PostgreSQL down at
 *   start-up every later query would fail, so a missing table is created again.
 */
export function openPostgresBackend(url: string, options: KeyvBackendOptions): KeyvBackend {
  const table = options.postgresTable ?? DEFAULT_TABLE;
  if (!TABLE_NAME.test(table)) {
    throw new PersistenceError('STORE_OPEN_FAILED', `"${table}" is not a plain table name`);
  }
  const adapter = new KeyvPostgres({
    uri: url,
    table,
    application_name: 'chanfitness-exporter',
    connectionTimeoutMillis: options.timeoutMs,
    query_timeout: options.timeoutMs,
    log: poolErrorListener((err) => {
      keyv.emit('error', err);
    }),
  });
  const keyv = newKeyv(adapter, options.namespace, true);
  return new PostgresBackend(adapter, keyv, table);
}

/**
 * The adapter keeps its pg.Pool private; pg-pool calls its `log` option as a
 * method of the pool, first before it opens any connection: that is where the
 * pool gets its 'error' listener.
 */
function poolErrorListener(onError: (err: unknown) => void): (this: EventEmitter) => void {
  const pools = new WeakSet<EventEmitter>();
  return function (this: EventEmitter): void {
    if (pools.has(this)) return;
    pools.add(this);
    this.on('error', onError);
  };
}

class PostgresBackend implements KeyvBackend {
  readonly kind = 'postgres';

  constructor(
    private readonly adapter: KeyvPostgres,
    readonly keyv: Keyv<unknown>,
    private readonly table: string,
  ) {}

  ready(): Promise<void> {
    return Promise.resolve();
  }

  async repair(err: unknown): Promise<boolean> {
    if (sqlState(err) !== UNDEFINED_TABLE) return false;
    try {
      // The adapter's own table definition.
      await this.adapter.query(
        `CREATE TABLE IF NOT EXISTS public.${this.table}(key VARCHAR(255) PRIMARY KEY, value TEXT)`,
      );
    } catch (createErr) {
      if (sqlState(createErr) !== UNIQUE_VIOLATION) throw createErr;
    }
    return true;
  }

  close(): Promise<void> {
    return this.adapter.disconnect();
  }
}

function sqlState(err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
}

import type { KeyvBackend, KeyvBackendOptions } from './keyv-backend.js';
import { openSqliteBackend } from './sqlite-backend.js';
import type { StoreTarget } from './store-url.js';

/**
 * Opens the backend a --store.url names. Only SQLite is reached at once (a
 * file that cannot be opened fails here); Redis and PostgreSQL connect in the
 * background, and while they are down operations fail and are retried.
 *
 * The Redis and PostgreSQL client libraries are loaded only when their
 * backend is used: together they took about 0.4 s of every start.
 */
export async function openKeyvBackend(
  target: StoreTarget,
  options: KeyvBackendOptions,
): Promise<KeyvBackend> {
  switch (target.kind) {
    case 'sqlite':
      return openSqliteBackend(target.path, options);
    case 'redis': {
      const { openRedisBackend } = await import('./redis-backend.js');
      return openRedisBackend(target.url, options);
    }
    case 'postgres': {
      const { openPostgresBackend } = await import('./postgres-backend.js');
      return openPostgresBackend(target.url, options);
    }
  }
}

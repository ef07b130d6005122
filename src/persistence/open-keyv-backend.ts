import type { KeyvBackend, KeyvBackendOptions } from './keyv-backend.js';
import { openPostgresBackend } from './postgres-backend.js';
import { openRedisBackend } from './redis-backend.js';
import { openSqliteBackend } from './sqlite-backend.js';
import type { StoreTarget } from './store-url.js';

/**
 * Opens the backend a --store.url names. Only SQLite is reached at once (a
 * file that cannot be opened fails here); Redis and PostgreSQL connect in the
 * background, and while they are down operations fail and are retried.
 */
export function openKeyvBackend(
  target: StoreTarget,
  options: KeyvBackendOptions,
): Promise<KeyvBackend> {
  switch (target.kind) {
    case 'sqlite':
      return openSqliteBackend(target.path, options);
    case 'redis':
      return Promise.resolve(openRedisBackend(target.url, options));
    case 'postgres':
      return Promise.resolve(openPostgresBackend(target.url, options));
  }
}

import { resolve } from 'node:path';
import type { StoreLocation } from '../config/settings.js';
import type { KeyvBackend, KeyvBackendOptions } from './keyv-backend.js';
import { openSqliteBackend } from './sqlite-backend.js';

/**
 * Opens the backend the settings' store location names (--store.url, parsed
 * by the settings). Only SQLite is reached at once (a file that cannot be
 * opened fails here), its relative path resolved against `cwd`; Redis and
 * PostgreSQL connect in the background, and while they are down operations
 * fail and are retried.
 *
 * The Redis and PostgreSQL client libraries are loaded only when their
 * backend is used: together they took about 0.4 s of every start.
 */
export async function openKeyvBackend(
  location: StoreLocation,
  options: KeyvBackendOptions,
  cwd: string = process.cwd(),
): Promise<KeyvBackend> {
  switch (location.backend) {
    case 'sqlite':
      return openSqliteBackend(
        location.path === ':memory:' ? location.path : resolve(cwd, location.path),
        options,
      );
    case 'redis': {
      const { openRedisBackend } = await import('./redis-backend.js');
      return openRedisBackend(location.url, options);
    }
    case 'postgres': {
      const { openPostgresBackend } = await import('./postgres-backend.js');
      return openPostgresBackend(location.url, options);
    }
  }
}

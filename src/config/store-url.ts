import { redactUrl } from '../log/redact-url.js';
import type { StoreLocation } from './settings.js';
import { InvalidValueError } from './settings-error.js';

const SCHEMES = 'sqlite://<path>, redis://, rediss://, postgres:// or postgresql://';

/**
 * The Keyv backend a --store.url names, with the URL's shape checked: the one
 * parse of the URL. The settings carry what it gives, and the persistence
 * opens that (openFlapRecordStore) without reading the URL again.
 */
export function parseStoreUrl(text: string): StoreLocation {
  const scheme = /^([a-z]+):\/\//.exec(text)?.[1];
  switch (scheme) {
    case 'sqlite':
      return parseSqlite(text);
    case 'redis':
    case 'rediss':
      checkRedis(parseUrl(text));
      return { backend: 'redis', url: text };
    case 'postgres':
    case 'postgresql':
      checkPostgres(parseUrl(text));
      return { backend: 'postgres', url: text };
    default:
      throw new InvalidValueError(`"${redactUrl(text)}" is not a store URL: use ${SCHEMES}`);
  }
}

function parseSqlite(text: string): StoreLocation {
  const path = text.slice('sqlite://'.length);
  if (path.trim() === '') {
    throw new InvalidValueError(
      `"${text}" has no file path (e.g. sqlite://./data/chanfitness.sqlite)`,
    );
  }
  return { backend: 'sqlite', url: text, path };
}

function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new InvalidValueError(`"${redactUrl(text)}" is not a valid URL`);
  }
}

function checkRedis(url: URL): void {
  if (url.hostname === '') {
    throw new InvalidValueError(`${url.protocol}// URL has no host (e.g. redis://localhost:6379)`);
  }
  if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d+$/.test(url.pathname)) {
    throw new InvalidValueError(
      `"${url.pathname}" is not a Redis database number (e.g. redis://localhost:6379/0)`,
    );
  }
}

function checkPostgres(url: URL): void {
  // libpq allows the host in the query, e.g. a Unix socket directory: ?host=/run/postgresql
  if (url.hostname === '' && !url.searchParams.has('host')) {
    throw new InvalidValueError(
      `${url.protocol}// URL has no host (e.g. postgres://user@localhost:5432/chanfitness)`,
    );
  }
  if (url.pathname.slice(1).includes('/')) {
    throw new InvalidValueError(`"${url.pathname}" is not a database name`);
  }
}

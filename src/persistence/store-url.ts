import { resolve } from 'node:path';
import { describeSetting } from '../config/settings-reader.js';
import { PersistenceError } from './errors.js';

/** The Keyv backend a --store.url names. */
export type StoreTarget =
  /** `path` is absolute (resolved against the working directory), or `:memory:`. */
  | { readonly kind: 'sqlite'; readonly path: string }
  /** redis:// or rediss:// (TLS). */
  | { readonly kind: 'redis'; readonly url: string }
  /** postgres:// or postgresql://. */
  | { readonly kind: 'postgres'; readonly url: string };

export type StoreKind = StoreTarget['kind'];

const SETTING = describeSetting('store.url');
const FORMS = 'sqlite://<path>, redis://, rediss://, postgres:// or postgresql://';
const SQLITE_PREFIX = 'sqlite://';
/** Query parameters that may carry a secret (libpq accepts ?password=…). */
const SECRET_PARAM = /pass|secret|token|key/i;

/**
 * Parses a --store.url. Throws a PersistenceError INVALID_STORE_URL naming the
 * setting (a settings error) for an unknown scheme or a malformed URL.
 */
export function parseStoreUrl(url: string, cwd: string = process.cwd()): StoreTarget {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'sqlite':
      return parseSqlite(url, cwd);
    case 'redis':
    case 'rediss': {
      const parsed = parseUrl(url);
      if (parsed.hostname === '') invalid(url, 'has no host (e.g. redis://127.0.0.1:6379)');
      if (!/^\/?(\d+)?$/.test(parsed.pathname)) {
        invalid(url, `has "${parsed.pathname}" where a Redis database number belongs (e.g. /0)`);
      }
      return { kind: 'redis', url };
    }
    case 'postgres':
    case 'postgresql': {
      const parsed = parseUrl(url);
      // libpq also takes the host from the query, e.g. a socket folder: ?host=/run/postgresql
      if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
        invalid(url, 'has no host (e.g. postgres://user@127.0.0.1:5432/chanfitness)');
      }
      return { kind: 'postgres', url };
    }
    case undefined:
      return invalid(url, `has no scheme: use ${FORMS}`);
    default:
      return invalid(url, `has an unsupported scheme "${scheme}:": use ${FORMS}`);
  }
}

/**
 * The URL with its password (and secret query parameters) replaced by `***`,
 * for logs and error messages.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not parseable: hide everything between the scheme and the last @ of the authority.
    return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, '$1***@');
  }
  let changed = false;
  if (parsed.password !== '') {
    parsed.password = '***';
    changed = true;
  }
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) {
      parsed.searchParams.set(name, '***');
      changed = true;
    }
  }
  return changed ? parsed.toString() : url;
}

function parseSqlite(url: string, cwd: string): StoreTarget {
  if (!url.toLowerCase().startsWith(SQLITE_PREFIX)) {
    invalid(url, 'is not of the form sqlite://<path> (e.g. sqlite://./data/chanfitness.sqlite)');
  }
  const path = url.slice(SQLITE_PREFIX.length);
  if (path.trim() === '') {
    invalid(url, 'has no file path (e.g. sqlite://./data/chanfitness.sqlite)');
  }
  return { kind: 'sqlite', path: path === ':memory:' ? path : resolve(cwd, path) };
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    return invalid(url, 'is not a valid URL');
  }
}

function invalid(url: string, problem: string): never {
  throw new PersistenceError('INVALID_STORE_URL', `${SETTING} "${redactUrl(url)}" ${problem}`);
}

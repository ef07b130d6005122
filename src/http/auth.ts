import { createHash, timingSafeEqual } from 'node:crypto';
import type { WebAuth } from '../config/settings.js';

/** Access control of /metrics and /graphql: HTTP basic auth or a bearer token. */
export type HttpAuth = Exclude<WebAuth, { readonly kind: 'none' }>;

export type AuthResult =
  | { readonly ok: true }
  /** The WWW-Authenticate challenge of the 401 answer. */
  | { readonly ok: false; readonly challenge: string };

/** Checks a request's Authorization header. */
export type Authenticator = (authorization: string | undefined) => AuthResult;

const REALM = 'chanfitness-exporter';

/**
 * Compares credentials in constant time: both sides are hashed first, so that
 * timingSafeEqual always gets equal lengths and the time taken says nothing
 * about the secret's length or content.
 */
export function createAuthenticator(auth: HttpAuth): Authenticator {
  if (auth.kind === 'basic') {
    const username = digest(auth.user);
    const password = digest(auth.password);
    const challenge = `Basic realm="${REALM}", charset="UTF-8"`;
    return (authorization) => {
      const credentials = parseCredentials(authorization, 'basic');
      if (credentials === undefined) return { ok: false, challenge };
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return { ok: false, challenge };
      // Both comparisons always run: which part was wrong must not show in the timing.
      const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), username);
      const passwordOk = timingSafeEqual(digest(decoded.slice(colon + 1)), password);
      return userOk && passwordOk ? { ok: true } : { ok: false, challenge };
    };
  }
  const token = digest(auth.token);
  return (authorization) => {
    const presented = parseCredentials(authorization, 'bearer');
    if (presented === undefined) return { ok: false, challenge: `Bearer realm="${REALM}"` };
    if (timingSafeEqual(digest(presented), token)) return { ok: true };
    return { ok: false, challenge: `Bearer realm="${REALM}", error="invalid_token"` };
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The credentials after the scheme, when the header uses that scheme (case-insensitive). */
function parseCredentials(header: string | undefined, scheme: string): string | undefined {
  if (header === undefined) return undefined;
  const match = /^([A-Za-z]+) +(\S+) *$/.exec(header);
  if (match?.[1]?.toLowerCase() !== scheme) return undefined;
  return match[2];
}

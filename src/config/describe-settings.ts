import { redactUrl } from '../log/redact-url.js';
import type { NatsAuth, Settings, WebAuth } from './settings.js';

export const REDACTED = '[redacted]';

/**
 * The settings for the start-up log line: the same shape, with every secret (NATS and
 * HTTP passwords and tokens, a password in the store URL) replaced by "[redacted]".
 * File paths stay: the files themselves are never read here.
 */
export function describeSettings(settings: Settings): Settings {
  return {
    ...settings,
    nats: { ...settings.nats, auth: redactNatsAuth(settings.nats.auth) },
    store: { ...settings.store, url: redactUrl(settings.store.url) },
    web: { ...settings.web, auth: redactWebAuth(settings.web.auth) },
  };
}

/** NATS credentials without their password or token. */
export function redactNatsAuth(auth: NatsAuth): NatsAuth {
  switch (auth.kind) {
    case 'user-password':
      return { ...auth, password: REDACTED };
    case 'token':
      return { ...auth, token: REDACTED };
    default:
      return auth;
  }
}

function redactWebAuth(auth: WebAuth): WebAuth {
  switch (auth.kind) {
    case 'basic':
      return { ...auth, password: REDACTED };
    case 'bearer':
      return { ...auth, token: REDACTED };
    default:
      return auth;
  }
}

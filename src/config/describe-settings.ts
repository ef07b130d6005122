import type { NatsAuth, Settings, WebAuth } from './settings.js';

export const REDACTED = '[redacted]';

/** Query parameters that carry secrets in database URLs (password=, sslpassword=, …). */
const SECRET_QUERY_PARAMETER = /([?&][^=&#]*(?:pass|secret|token)[^=&#]*=)[^&#]*/gi;
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*):[^@/?#]*@/i;

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

function redactNatsAuth(auth: NatsAuth): NatsAuth {
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

/** Works on the text: re-serializing through URL would re-encode the rest. */
function redactUrl(url: string): string {
  return url
    .replace(URL_PASSWORD, `$1:${REDACTED}@`)
    .replace(SECRET_QUERY_PARAMETER, `$1${REDACTED}`);
}

import { readFile } from 'node:fs/promises';
import { credsAuthenticator, type ConnectionOptions } from 'nats';
import type { NatsSettings } from '../config/settings.js';

/** How long between reconnect attempts; the client keeps trying forever. */
const RECONNECT_WAIT_MS = 2_000;

/**
 * nats.js connection options from the settings: servers, credentials, TLS, reconnecting
 * forever. The exporter's and the lnd bridge's settings both have these.
 */
export async function connectionOptions(
  settings: Pick<NatsSettings, 'servers' | 'name' | 'auth' | 'tls'>,
): Promise<ConnectionOptions> {
  const options: ConnectionOptions = {
    servers: [...settings.servers],
    name: settings.name,
    // Never give up: a monitor that stops reconnecting silently stops monitoring.
    maxReconnectAttempts: -1,
    // nats.js stops reconnecting after the same authentication error twice: a server
    // whose credentials are being fixed must still be retried.
    ignoreAuthErrorAbort: true,
    reconnectTimeWait: RECONNECT_WAIT_MS,
    // An unanswered TLS handshake (a client certificate missing) fails in 5 s, not 20.
    timeout: 5_000,
    pingInterval: 20_000,
  };
  const { auth, tls } = settings;
  switch (auth.kind) {
    case 'creds':
      options.authenticator = credsAuthenticator(await readFile(auth.credsFile));
      break;
    case 'user-password':
      options.user = auth.user;
      options.pass = auth.password;
      break;
    case 'token':
      options.token = auth.token;
      break;
    case 'none':
      break;
  }
  if (tls !== undefined) {
    options.tls = {
      ...(tls.caFile === undefined ? {} : { caFile: tls.caFile }),
      ...(tls.certFile === undefined ? {} : { certFile: tls.certFile }),
      ...(tls.keyFile === undefined ? {} : { keyFile: tls.keyFile }),
    };
  }
  return options;
}

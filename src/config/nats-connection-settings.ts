import { readCertificatePair } from './certificate-pair.js';
import { checkCertificateFile, checkCredsFile } from './credential-files.js';
import type { NatsAuth, NatsTls } from './settings.js';
import type { SettingsReader } from './settings-reader.js';

/**
 * The settings of a NATS client's credentials and TLS, with the same flags and
 * variables in every program that connects to NATS (the exporter, the lnd bridge).
 */
export type NatsAuthSettingName = 'nats.creds' | 'nats.user' | 'nats.password' | 'nats.token';
export type NatsTlsSettingName = 'nats.tls' | 'nats.tls-ca' | 'nats.tls-cert' | 'nats.tls-key';

const text = (value: string): string => value;

/** At most one way to authenticate: a .creds file, a user and password, or a token. */
export function readNatsAuth(reader: SettingsReader<NatsAuthSettingName>): NatsAuth {
  const credsFile = reader.optional('nats.creds', checkCredsFile);
  const user = reader.optional('nats.user', text);
  const password = reader.optional('nats.password', text);
  const token = reader.optional('nats.token', text);
  const given = (
    names: readonly NatsAuthSettingName[],
    values: readonly (string | undefined)[],
  ): NatsAuthSettingName[] => names.filter((_, index) => values[index] !== undefined);
  const withCreds = given(['nats.user', 'nats.password', 'nats.token'], [user, password, token]);
  if (credsFile !== undefined && withCreds[0] !== undefined) {
    throw reader.invalid('nats.creds', `cannot be used with ${reader.describe(withCreds[0])}`);
  }
  const withToken = given(['nats.user', 'nats.password'], [user, password]);
  if (token !== undefined && withToken[0] !== undefined) {
    throw reader.invalid('nats.token', `cannot be used with ${reader.describe(withToken[0])}`);
  }
  if (user !== undefined && password === undefined) {
    throw reader.invalid('nats.user', `requires ${reader.describe('nats.password')}`);
  }
  if (password !== undefined && user === undefined) {
    throw reader.invalid('nats.password', `requires ${reader.describe('nats.user')}`);
  }
  if (credsFile !== undefined) return { kind: 'creds', credsFile };
  if (token !== undefined) return { kind: 'token', token };
  if (user !== undefined && password !== undefined) {
    return { kind: 'user-password', user, password };
  }
  return { kind: 'none' };
}

/** TLS when required: --nats.tls, a tls:// server or any TLS file. */
export function readNatsTls(
  reader: SettingsReader<NatsTlsSettingName>,
  servers: readonly string[],
): NatsTls | undefined {
  const required = reader.boolean('nats.tls');
  const caFile = reader.optional('nats.tls-ca', checkCertificateFile);
  const pair = readCertificatePair(reader, 'nats.tls-cert', 'nats.tls-key');
  const tlsServer = servers.some((server) => server.startsWith('tls://'));
  return required || tlsServer || caFile !== undefined || pair !== undefined
    ? { caFile, certFile: pair?.certFile, keyFile: pair?.keyFile }
    : undefined;
}

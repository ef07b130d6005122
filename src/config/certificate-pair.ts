import {
  certificateMatchesKey,
  checkCertificateFile,
  checkPrivateKeyFile,
} from './credential-files.js';
import type { SettingsReader } from './settings-reader.js';

/** A PEM certificate and its private key, each checked readable and matching. */
export interface CertificatePair {
  readonly certFile: string;
  readonly keyFile: string;
}

/** A certificate and its key: both or neither, each a readable file, the key the certificate's. */
export function readCertificatePair<Name extends string>(
  reader: SettingsReader<Name>,
  certName: Name,
  keyName: Name,
): CertificatePair | undefined {
  const certFile = reader.optional(certName, checkCertificateFile);
  const keyFile = reader.optional(keyName, checkPrivateKeyFile);
  if (certFile !== undefined && keyFile === undefined) {
    throw reader.invalid(certName, `requires ${reader.describe(keyName)}`);
  }
  if (keyFile !== undefined && certFile === undefined) {
    throw reader.invalid(keyName, `requires ${reader.describe(certName)}`);
  }
  if (certFile === undefined || keyFile === undefined) return undefined;
  if (!certificateMatchesKey(certFile, keyFile)) {
    throw reader.invalid(
      keyName,
      `"${keyFile}" is not the private key of the certificate in ${reader.describe(certName)}`,
    );
  }
  return { certFile, keyFile };
}

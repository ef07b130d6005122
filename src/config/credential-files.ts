import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

import { errorMessage } from '../errors.js';
import { checkReadableFile } from './readable-file.js';
import { InvalidValueError } from './settings-error.js';

/** Credential files are small; a bigger one is the wrong file (and is not read whole). */
const MAX_CREDENTIAL_FILE_BYTES = 1024 * 1024;

/** A block of a .creds file, as nats.js finds them: a dashed header line, the value, a dashed footer. */
const CREDS_BLOCK = /\s*(?:(?:-{3,}[^\n]*-{3,}\r?\n)(.+)(?:\r?\n\s*-{3,}[^\n]*-{3,}\r?\n))/g;
/** A JWT: three base64url parts. */
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** An NKey seed of a user: `SU` and base32. */
const USER_SEED = /^SU[A-Z2-7]+$/;
const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The text of a readable regular file of at most 1 MiB. */
function readSmallText(path: string): string {
  checkReadableFile(path);
  const { size } = statSync(path);
  if (size > MAX_CREDENTIAL_FILE_BYTES) {
    throw new InvalidValueError(`"${path}" is ${size} bytes: not a credentials file`);
  }
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new InvalidValueError(`cannot read "${path}": ${errorMessage(err)}`);
  }
}

/**
 * A NATS credentials file (`nsc` and `nats` write them): a user JWT block, then
 * a user NKey seed block. Checked at start-up, so that the wrong file fails
 * there rather than at every connection attempt. Never quotes the contents.
 */
export function checkCredsFile(path: string): string {
  const text = readSmallText(path);
  const blocks = [...text.matchAll(CREDS_BLOCK)].map((match) => (match[1] ?? '').trim());
  const [jwt, seed] = blocks;
  const notCreds = `"${path}" is not a NATS credentials file`;
  if (jwt === undefined) {
    throw new InvalidValueError(
      `${notCreds}: it has no user JWT section (-----BEGIN NATS USER JWT-----)`,
    );
  }
  if (!JWT.test(jwt)) {
    throw new InvalidValueError(`${notCreds}: its first section does not hold a user JWT`);
  }
  if (seed === undefined) {
    throw new InvalidValueError(
      `${notCreds}: it has no NKey seed section (-----BEGIN USER NKEY SEED-----)`,
    );
  }
  if (!USER_SEED.test(seed)) {
    throw new InvalidValueError(
      `${notCreds}: its second section does not hold a user NKey seed (SU…)`,
    );
  }
  return path;
}

function parseCertificates(path: string): X509Certificate[] {
  const blocks = readSmallText(path).match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new InvalidValueError(
      `"${path}" is not a PEM certificate file: it has no -----BEGIN CERTIFICATE----- block`,
    );
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new InvalidValueError(
        `certificate ${index + 1} of "${path}" cannot be read: ${errorMessage(err)}`,
      );
    }
  });
}

/** A file of PEM certificates (a CA bundle, or a certificate and its chain). */
export function checkCertificateFile(path: string): string {
  parseCertificates(path);
  return path;
}

function parsePrivateKey(path: string): KeyObject {
  const text = readSmallText(path);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new InvalidValueError(
      `"${path}" is not a PEM private key file: it has no -----BEGIN … PRIVATE KEY----- block`,
    );
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw new InvalidValueError(
      `the private key in "${path}" is encrypted: use an unencrypted one`,
    );
  }
  try {
    return createPrivateKey({ key: text, format: 'pem' });
  } catch (err) {
    throw new InvalidValueError(
      `the private key in "${path}" cannot be read: ${errorMessage(err)}`,
    );
  }
}

/** A file with one PEM private key, unencrypted. */
export function checkPrivateKeyFile(path: string): string {
  parsePrivateKey(path);
  return path;
}

/** Whether the first certificate of a checked certificate file is the one of a checked key file. */
export function certificateMatchesKey(certFile: string, keyFile: string): boolean {
  const [certificate] = parseCertificates(certFile);
  return certificate?.checkPrivateKey(parsePrivateKey(keyFile)) ?? false;
}

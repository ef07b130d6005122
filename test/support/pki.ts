import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** PEM files of a certificate and its key. */
export interface CertFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** PEM files of a throwaway certificate authority and the certificates it signed. */
export interface TestPki {
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

function openssl(dir: string, args: string[]): void {
  // stderr piped: openssl's complaint is in the error when it fails.
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** openssl arguments for a new unencrypted P-256 key in `keyFile`, the request or certificate in `outFile`. */
function newP256Key(keyFile: string, outFile: string): string[] {
  return [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    outFile,
  ];
}

export interface SelfSignedOptions {
  /** The certificate's subject (default `/CN=localhost`). */
  readonly subject?: string;
  /** File names in `dir` (default cert.pem and key.pem). */
  readonly certName?: string;
  readonly keyName?: string;
}

/**
 * A self-signed P-256 certificate for 127.0.0.1 and localhost, valid one day,
 * made with the system's openssl in `dir` (a test's temp dir).
 */
export function makeSelfSignedCert(dir: string, options: SelfSignedOptions = {}): CertFiles {
  const certFile = join(dir, options.certName ?? 'cert.pem');
  const keyFile = join(dir, options.keyName ?? 'key.pem');
  openssl(dir, [
    'req',
    '-x509',
    ...newP256Key(keyFile, certFile),
    '-days',
    '1',
    '-subj',
    options.subject ?? '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  return { certFile, keyFile };
}

/** A P-256 key and a certificate signing request for `cn`. */
function request(dir: string, name: string, cn: string): void {
  openssl(dir, ['req', '-new', ...newP256Key(`${name}.key`, `${name}.csr`), '-subj', `/CN=${cn}`]);
}

function sign(dir: string, name: string, extensions: string): void {
  // An explicit extension file: the system openssl.cnf must not add or clash with anything.
  writeFileSync(join(dir, `${name}.ext`), `[v3]\n${extensions}\n`);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-sha256',
    '-extfile',
    `${name}.ext`,
    '-extensions',
    'v3',
    '-out',
    `${name}.pem`,
  ]);
}

/**
 * A CA, a server certificate for 127.0.0.1 and localhost, and a client
 * certificate, made with the system's openssl in `dir` (a test's temp dir).
 */
export function makeTestPki(dir: string): TestPki {
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[req]',
      'distinguished_name = dn',
      'x509_extensions = v3',
      'prompt = no',
      '[dn]',
      'CN = chanfitness test CA',
      '[v3]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  openssl(dir, [
    'req',
    '-x509',
    '-config',
    'ca.cnf',
    ...newP256Key('ca.key', 'ca.pem'),
    '-days',
    '1',
  ]);
  request(dir, 'server', 'localhost');
  sign(
    dir,
    'server',
    [
      'basicConstraints = CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = serverAuth',
      'subjectAltName = IP:127.0.0.1, DNS:localhost',
    ].join('\n'),
  );
  request(dir, 'client', 'chanfitness-exporter');
  sign(
    dir,
    'client',
    [
      'basicConstraints = CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = clientAuth',
    ].join('\n'),
  );
  return {
    caFile: join(dir, 'ca.pem'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server.key'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
  };
}

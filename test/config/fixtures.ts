import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseSettings } from '../../src/config/parse-settings.js';
import type { Settings } from '../../src/config/settings.js';
import { SettingsError } from '../../src/config/settings-error.js';
import { makeSelfSignedCert, type CertFiles } from '../support/pki.js';

/** Settings from argv and env; fails the test on help, version or an error. */
export function settingsOf(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Settings {
  const result = parseSettings(argv, env);
  assert.equal(result.kind, 'settings');
  return result.settings;
}

/** The SettingsError that parsing throws; fails the test when it succeeds. */
export function settingsErrorOf(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = {},
): SettingsError {
  try {
    parseSettings(argv, env);
  } catch (err) {
    assert.ok(err instanceof SettingsError, `expected a SettingsError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected a SettingsError for ${JSON.stringify(argv)} ${JSON.stringify(env)}`);
}

/** Readable files in a private temp directory, removed by remove(). */
export class TempFiles {
  readonly dir = mkdtempSync(join(tmpdir(), 'chanfitness-config-'));

  file(name: string, content = 'test\n'): string {
    const path = join(this.dir, name);
    writeFileSync(path, content);
    return path;
  }

  /** A file with the sections of a NATS credentials file (a JWT and a user seed of the right forms). */
  creds(name: string): string {
    return this.file(name, credsText());
  }

  /** A PEM certificate and its key (openssl), in files of these names. */
  certificateAndKey(certName: string, keyName: string): CertFiles {
    return makeSelfSignedCert(this.dir, { certName, keyName });
  }

  /** A copy of a file under another name (another path to the same contents). */
  copy(path: string, name: string): string {
    const target = join(this.dir, name);
    copyFileSync(path, target);
    return target;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The text of a NATS .creds file as `nsc` writes it, with the given parts (made-up ones by default). */
export function credsText(
  jwt = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJzdWIiOiJVVEVTVCJ9.c2lnbmF0dXJl',
  seed = `SU${'A'.repeat(56)}`,
): string {
  return `-----BEGIN NATS USER JWT-----
${jwt}
------END NATS USER JWT------

************************* IMPORTANT *************************
NKEY Seed printed below can be used to sign and prove identity.
NKEYs are sensitive and should be treated as secrets.

-----BEGIN USER NKEY SEED-----
${seed}
------END USER NKEY SEED------
`;
}

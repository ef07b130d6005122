import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseSettings } from '../../src/config/parse-settings.js';
import type { Settings } from '../../src/config/settings.js';
import { SettingsError } from '../../src/config/settings-error.js';

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

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

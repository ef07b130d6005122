import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Installing on the Node version the package declares: no dependency may
 * require a newer Node (npm only warns, and such a package may use what this
 * Node lacks). `.npmrc` makes npm refuse the install instead.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');

/** [major, minor, patch] of a version text. */
function parts(version: string): number[] {
  return version.replace(/^v/, '').split('.').map(Number);
}

function atLeast(version: number[], floor: number[]): boolean {
  for (let i = 0; i < 3; i++) {
    const a = version[i] ?? 0;
    const b = floor[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/** Every package.json under node_modules (nested ones included). */
function* installedPackages(dir: string): Generator<{ name: string; engines?: { node?: string } }> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.name.startsWith('@')) {
      yield* installedPackages(path);
      continue;
    }
    try {
      yield JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as {
        name: string;
        engines?: { node?: string };
      };
    } catch {
      continue;
    }
    yield* installedPackages(join(path, 'node_modules'));
  }
}

describe('install', () => {
  it('makes npm refuse dependencies that need another Node (engine-strict)', () => {
    const npmrc = readFileSync(join(ROOT, '.npmrc'), 'utf8');
    assert.match(npmrc, /^engine-strict=true$/m);
  });

  it('installs no package that requires a newer Node than this one', () => {
    const node = parts(process.versions.node);
    const tooNew: string[] = [];
    let seen = 0;
    for (const pkg of installedPackages(join(ROOT, 'node_modules'))) {
      seen += 1;
      // The common form: `>=X.Y.Z` (alone, or the lower bound of a range).
      const floor = /^\s*>=\s*v?(\d+(?:\.\d+){0,2})/.exec(pkg.engines?.node ?? '');
      if (floor?.[1] !== undefined && !atLeast(node, parts(floor[1]))) {
        tooNew.push(`${pkg.name} (${pkg.engines?.node ?? ''})`);
      }
    }
    assert.ok(seen > 100, `${seen} packages read`);
    assert.deepEqual(tooNew, []);
  });

  it('declares the Node versions its dependencies support', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    const floor = /^>=(\d+\.\d+\.\d+)$/.exec(pkg.engines.node);
    assert.ok(floor?.[1] !== undefined, pkg.engines.node);
    assert.ok(atLeast(parts(process.versions.node), parts(floor[1])));
  });
});

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import {
  envVarOf,
  SETTING_DEFINITIONS,
  type SettingDefinition,
} from '../../src/config/setting-definitions.js';
import { BRIDGE_SETTING_DEFINITIONS } from '../../src/bridge/config/bridge-setting-definitions.js';
import { REJECT_REASONS } from '../../src/lnd/reject-reason.js';
import { CHANFITNESS_FAMILIES } from '../../src/metrics/metric-families.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The README is the operator's manual: it must not drift from the code. */
describe('README', () => {
  it('gives the two commands of a newcomer: run on the defaults, and test', () => {
    assert.ok(readme.includes('npm ci && npm start'));
    assert.ok(readme.includes('npm ci && npm test'));
    const scripts = (
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    assert.ok(scripts.start !== undefined && scripts.test !== undefined);
  });

  it('lists every setting with its flag and environment variable', () => {
    for (const d of SETTING_DEFINITIONS) {
      assert.ok(readme.includes(`\`--${d.name}`), `--${d.name}`);
      assert.ok(readme.includes(`\`${envVarOf(d.name)}\``), envVarOf(d.name));
    }
  });

  it('lists every setting of the lnd bridge with its flag and environment variable', () => {
    const section = readme.slice(readme.indexOf('### The bridge'), readme.indexOf('## Delivery'));
    for (const d of BRIDGE_SETTING_DEFINITIONS) {
      assert.ok(section.includes(`\`--${d.name}`), `--${d.name}`);
      // The bridge's own variables by name; the shared NATS and log ones are the exporter's.
      if (
        d.name.startsWith('lnd.') ||
        d.name === 'status.interval' ||
        d.name === 'nats.jetstream'
      ) {
        assert.ok(section.includes(`\`${envVarOf(d.name)}\``), envVarOf(d.name));
      }
    }
    assert.match(section, /deploy\/README\.md/);
    assert.doesNotMatch(section, /tsx|scripts\/lnd-bridge/);
  });

  it('gives every setting its default in the settings table', () => {
    const rows = readme.split('\n').filter((line) => line.startsWith('| `--'));
    for (const d of SETTING_DEFINITIONS as readonly SettingDefinition[]) {
      const row = rows.find(
        (line) => line.startsWith(`| \`--${d.name}\``) || line.startsWith(`| \`--${d.name} `),
      );
      assert.ok(row, `a row for --${d.name}`);
      const cells = row.split('|').map((cell) => cell.trim());
      const shown = cells[3] ?? '';
      const expected = d.default === undefined || d.default === '' ? '' : `\`${d.default}\``;
      assert.equal(shown, expected, `default of --${d.name}`);
    }
  });

  it('lists every metric family and every rejection reason', () => {
    for (const family of CHANFITNESS_FAMILIES)
      assert.ok(readme.includes(`\`${family.name}\``), family.name);
    for (const reason of REJECT_REASONS) assert.ok(readme.includes(`\`${reason}\``), reason);
  });

  it('names no chanfitness metric the exporter does not have', () => {
    const known = new Set(CHANFITNESS_FAMILIES.map((f) => f.name));
    // Recording rules (chanfitness:…) use colons and are not exporter metrics.
    for (const [name] of readme.matchAll(/\bchanfitness_[a-z_]+[a-z]\b/g)) {
      assert.ok(known.has(name), `README names ${name}`);
    }
  });

  it('names only files and folders of the repository that exist', () => {
    const named = new Set(
      [
        ...readme.matchAll(
          /(?<![\w./-])((?:src|test|bench|grafana|deploy|graphql)\/[\w./@-]*[\w/])/g,
        ),
      ].map((m) => m[1] ?? ''),
    );
    // The picture of a peer event's path and the design table name a dozen files at least.
    assert.ok(named.size > 20, `${named.size} paths`);
    // grafana/grafana-oss is the container image in the provisioning example.
    const missing = [...named].filter(
      (path) =>
        path !== 'grafana/grafana-oss' && !existsSync(new URL(`../../${path}`, import.meta.url)),
    );
    assert.deepEqual(missing, []);
  });

  it('has no section left to write', () => {
    assert.doesNotMatch(readme, /<!--/);
  });

  it('speaks to operators: no issue numbers, commands that work as written', () => {
    assert.doesNotMatch(readme, /\bissues? #?\d+/i);
    // The bin is not on PATH after `npm ci` in the repository.
    assert.doesNotMatch(readme, /(?<!npx )`chanfitness-exporter --help`(?! once)/);
    assert.match(readme, /`npx chanfitness-exporter --help`/);
  });

  it('says what installing needs and which lnd it follows', () => {
    assert.match(readme, /C\/C\+\+ toolchain/);
    assert.match(readme, /builds SQLite from source/);
    assert.match(readme, /commit `90ea05d5`/);
  });
});

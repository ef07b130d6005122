import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { parseSettings } from '../../src/config/parse-settings.js';
import { envVarOf, SETTING_DEFINITIONS } from '../../src/config/setting-definitions.js';
import type { SettingsResult } from '../../src/config/settings.js';

function textOf(result: SettingsResult, kind: 'help' | 'version'): string {
  assert.equal(result.kind, kind);
  return result.kind === kind ? result.text : '';
}

/** Commander wraps the help to the terminal: compare with single spaces. */
const flat = (text: string) => text.replace(/\s+/g, ' ');

describe('help and version', () => {
  const help = textOf(parseSettings(['--help'], {}), 'help');
  /** The part of the help from a flag's line to the next flag's line. */
  const entryOf = (flag: string): string => {
    const match = new RegExp(`\\n {2}${flag.replace(/\./g, '\\.')} [^]*?(?=\\n {2}-|\\n\\n)`).exec(
      help,
    );
    assert.ok(match, `no help entry for ${flag}`);
    return flat(match[0]);
  };

  it('lists every flag with its variable and default', () => {
    for (const definition of SETTING_DEFINITIONS) {
      const entry = entryOf(`--${definition.name}`);
      assert.ok(entry.includes(`env: ${envVarOf(definition.name)}`), entry);
      if ('default' in definition) {
        assert.ok(entry.includes(`default: ${definition.default}`), entry);
      } else {
        assert.ok(!entry.includes('default:'), entry);
      }
    }
  });

  it('shows the value placeholder of each flag and [bool] for booleans', () => {
    assert.match(help, /--nats\.url <urls>/);
    assert.match(help, /--flap\.flush-interval <duration>/);
    assert.match(help, /--graphql\.introspection \[bool\]/);
  });

  it('shows how to turn off what is on by default', () => {
    assert.match(help, /--no-graphql\.introspection/);
    assert.match(help, /--no-graphql\.graphiql/);
  });

  it('advises variables for secrets', () => {
    for (const definition of SETTING_DEFINITIONS.filter((d) => 'secret' in d)) {
      assert.match(entryOf(`--${definition.name}`), /prefer the variable/);
    }
  });

  it('groups the flags and explains precedence', () => {
    for (const heading of ['NATS input:', 'Flap count store (Keyv):', 'GraphQL:', 'Logging:']) {
      assert.ok(help.includes(`\n${heading}\n`), heading);
    }
    assert.match(flat(help), /a flag given on the command line wins over the variable/);
  });

  it('comes back for -h, whatever else is on the command line or in the environment', () => {
    assert.equal(textOf(parseSettings(['-h'], {}), 'help'), help);
    assert.equal(textOf(parseSettings(['--log.level=nonsense', '--help'], {}), 'help'), help);
    assert.equal(textOf(parseSettings(['--help'], { LOG_LEVEL: 'nonsense' }), 'help'), help);
  });

  it('gives the version of package.json for --version and -V', () => {
    const packageJson = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    assert.equal(textOf(parseSettings(['--version'], {}), 'version'), `${packageJson.version}\n`);
    assert.equal(textOf(parseSettings(['-V'], {}), 'version'), `${packageJson.version}\n`);
  });
});

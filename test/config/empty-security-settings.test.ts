import assert from 'node:assert/strict';

import {
  definitionOf,
  envVarOf,
  SETTING_DEFINITIONS,
  type SettingDefinition,
  type SettingName,
} from '../../src/config/setting-definitions.js';
import { settingsErrorOf, settingsOf } from './fixtures.js';

/** The settings that switch a protection on: an empty value must not switch it off. */
const SECURITY_SETTINGS: readonly SettingName[] = [
  'web.bearer-token',
  'web.basic-auth-user',
  'web.basic-auth-password',
  'web.tls-cert',
  'web.tls-key',
  'web.cors-origin',
  'nats.creds',
  'nats.user',
  'nats.password',
  'nats.token',
  'nats.tls-ca',
  'nats.tls-cert',
  'nats.tls-key',
];

describe('empty security settings', () => {
  it('marks exactly the security settings in the definitions', () => {
    const marked = (SETTING_DEFINITIONS as readonly SettingDefinition[])
      .filter((d) => d.security !== undefined)
      .map((d) => d.name);
    assert.deepEqual([...marked].sort(), [...SECURITY_SETTINGS].sort());
  });

  for (const name of SECURITY_SETTINGS) {
    const flag = `--${name}`;
    const envVar = envVarOf(name);
    const protection = definitionOf(name).security ?? '';
    const ways: [string, readonly string[], NodeJS.ProcessEnv][] = [
      [`${flag}=`, [`${flag}=`], {}],
      [`${flag} ''`, [flag, ''], {}],
      [`${flag} '  '`, [flag, '  '], {}],
      [`${envVar}=''`, [], { [envVar]: '' }],
      [`${envVar}=' \\t'`, [], { [envVar]: ' \t' }],
    ];
    for (const [what, argv, env] of ways) {
      it(`refuses ${what}, naming ${flag} and ${envVar}`, () => {
        const err = settingsErrorOf(argv, env);
        assert.equal(err.code, 'INVALID_SETTING');
        assert.equal(err.flag, flag);
        assert.equal(err.envVar, envVar);
        assert.equal(
          err.message,
          `invalid ${flag} (${envVar}): an empty value would turn off ${protection}: ` +
            'leave the setting out to run without it',
        );
      });
    }
  }

  it('says which protection an empty value would turn off', () => {
    assert.match(settingsErrorOf(['--web.bearer-token=']).message, /HTTP bearer-token auth/);
    assert.match(settingsErrorOf(['--web.tls-cert=', '--web.tls-key=']).message, /off HTTPS:/);
    assert.match(settingsErrorOf([], { NATS_TOKEN: '' }).message, /NATS token authentication/);
  });

  it('refuses an empty value even where another setting of the pair is given', () => {
    const err = settingsErrorOf(['--web.basic-auth-user=grafana'], {
      WEB_BASIC_AUTH_PASSWORD: '',
    });
    assert.equal(err.flag, '--web.basic-auth-password');
    assert.match(err.message, /an empty value would turn off HTTP basic authentication/);
  });

  it('does not look at an empty variable that a flag overrides', () => {
    const settings = settingsOf(['--web.bearer-token=t'], { WEB_BEARER_TOKEN: '' });
    assert.deepEqual(settings.web.auth, { kind: 'bearer', token: 't' });
  });

  it('runs without the protection when the setting is left out', () => {
    const settings = settingsOf([], {});
    assert.deepEqual(settings.web.auth, { kind: 'none' });
    assert.equal(settings.web.tls, undefined);
    assert.deepEqual(settings.nats.auth, { kind: 'none' });
  });

  it('still reads an empty variable of any other setting as unset', () => {
    const others = SETTING_DEFINITIONS.map((d) => d.name).filter(
      (name) => !SECURITY_SETTINGS.includes(name),
    );
    assert.ok(others.length > 20, 'the other settings');
    const defaults = settingsOf([]);
    for (const name of others) {
      assert.deepEqual(settingsOf([], { [envVarOf(name)]: '' }), defaults, envVarOf(name));
    }
    assert.deepEqual(
      settingsOf([], Object.fromEntries(others.map((name) => [envVarOf(name), '']))),
      defaults,
    );
  });
});

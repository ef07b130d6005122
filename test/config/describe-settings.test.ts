import assert from 'node:assert/strict';

import { describeSettings, REDACTED } from '../../src/config/describe-settings.js';
import { envVarOf, SETTING_DEFINITIONS } from '../../src/config/setting-definitions.js';
import { credsText, settingsOf, TempFiles } from './fixtures.js';

describe('describeSettings', () => {
  const files = new TempFiles();
  // A creds file whose contents must not show: the marker stands in its comment lines.
  const creds = files.file('user.creds', credsText().replace('IMPORTANT', 'SECRET-CREDS-CONTENT'));
  after(() => {
    files.remove();
  });

  // Two runs, because each way of authenticating excludes the others.
  const runs: Record<string, string>[] = [
    {
      NATS_USER: 'nats-user',
      NATS_PASSWORD: 'secret-nats-password',
      WEB_BASIC_AUTH_USER: 'web-user',
      WEB_BASIC_AUTH_PASSWORD: 'secret-web-password',
      STORE_URL:
        'postgres://pg-user:secret-pg-password@db.example.com:5432/chanfitness?sslpassword=secret-ssl&application_name=exporter',
    },
    {
      NATS_TOKEN: 'secret-nats-token',
      WEB_BEARER_TOKEN: 'secret-bearer-token',
      STORE_URL: 'rediss://default:secret-redis-password@cache.example.com:6380/0',
    },
  ];

  it('covers every secret setting', () => {
    const set = new Set(runs.flatMap((env) => Object.keys(env)));
    for (const definition of SETTING_DEFINITIONS.filter((d) => 'secret' in d)) {
      assert.ok(set.has(envVarOf(definition.name)), definition.name);
    }
  });

  for (const [index, env] of runs.entries()) {
    it(`leaves no secret in its JSON (run ${index + 1})`, () => {
      const json = JSON.stringify(describeSettings(settingsOf([], env)));
      const secrets = Object.values(env).flatMap((value) => value.match(/secret-[a-z-]+/g) ?? []);
      assert.ok(secrets.length >= 3);
      for (const secret of secrets) {
        assert.ok(!json.includes(secret), `${secret} in ${json}`);
      }
      assert.ok(json.includes(REDACTED));
    });
  }

  it('keeps what is not secret, and the settings themselves', () => {
    const settings = settingsOf([`--nats.creds=${creds}`, '--web.basic-auth-user=web-user'], {
      WEB_BASIC_AUTH_PASSWORD: 'secret-web-password',
      STORE_URL: 'redis://cache:6379/3',
    });
    const described = describeSettings(settings);
    assert.deepEqual(described.nats, settings.nats);
    assert.deepEqual(described.web.auth, { kind: 'basic', user: 'web-user', password: REDACTED });
    assert.equal(described.store.url, 'redis://cache:6379/3');
    assert.deepEqual(settings.web.auth, {
      kind: 'basic',
      user: 'web-user',
      password: 'secret-web-password',
    });
    assert.ok(!JSON.stringify(described).includes('SECRET-CREDS-CONTENT'));
  });

  it('masks the password of a store URL, keeping the user and the rest', () => {
    const { store } = describeSettings(
      settingsOf([], {
        STORE_URL: 'postgres://pg-user:p%40ss@db:5432/chanfitness?sslmode=require&password=x',
      }),
    );
    assert.equal(
      store.url,
      'postgres://pg-user:***@db:5432/chanfitness?sslmode=require&password=***',
    );
  });

  it('masks a password that holds an @ whole', () => {
    const { store } = describeSettings(
      settingsOf([], { STORE_URL: 'redis://:p@ss-SECRET@127.0.0.1:6379/' }),
    );
    assert.ok(!store.url.includes('SECRET'), store.url);
    assert.ok(store.url.includes('127.0.0.1:6379'), store.url);
  });

  it('leaves settings without secrets as they are', () => {
    const settings = settingsOf([]);
    assert.deepEqual(describeSettings(settings), settings);
  });
});

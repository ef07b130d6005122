import assert from 'node:assert/strict';

import { InvalidValueError } from '../../src/config/settings-error.js';
import { parseStoreUrl } from '../../src/config/store-url.js';

describe('parseStoreUrl', () => {
  it('reads sqlite URLs with their path', () => {
    assert.deepEqual(parseStoreUrl('sqlite://./data/chanfitness.sqlite'), {
      backend: 'sqlite',
      url: 'sqlite://./data/chanfitness.sqlite',
      path: './data/chanfitness.sqlite',
    });
    assert.deepEqual(parseStoreUrl('sqlite:///var/lib/chanfitness/flaps.sqlite'), {
      backend: 'sqlite',
      url: 'sqlite:///var/lib/chanfitness/flaps.sqlite',
      path: '/var/lib/chanfitness/flaps.sqlite',
    });
    assert.equal(parseStoreUrl('sqlite://:memory:').backend, 'sqlite');
  });

  for (const url of [
    'redis://localhost:6379',
    'redis://127.0.0.1',
    'redis://:secret@localhost:6379/2',
    'redis://user:secret@[::1]:6379/0',
    'rediss://cache.example.com:6380',
  ]) {
    it(`reads ${url} as redis`, () => {
      assert.deepEqual(parseStoreUrl(url), { backend: 'redis', url });
    });
  }

  for (const url of [
    'postgres://postgres@127.0.0.1:5432/test',
    'postgresql://user:pw@db.example.com/chanfitness?sslmode=require',
    'postgres://localhost',
    'postgres:///chanfitness?host=/run/postgresql',
  ]) {
    it(`reads ${url} as postgres`, () => {
      assert.deepEqual(parseStoreUrl(url), { backend: 'postgres', url });
    });
  }

  for (const [url, reason] of [
    ['', /not a store URL/],
    ['./data/chanfitness.sqlite', /not a store URL/],
    ['mysql://localhost/db', /not a store URL/],
    ['SQLITE://x', /not a store URL/],
    ['sqlite:data.db', /not a store URL/],
    ['mongodb://localhost', /not a store URL/],
    ['sqlite://', /has no file path/],
    ['redis://', /has no host/],
    ['redis://localhost:6379/cache', /not a Redis database number/],
    ['redis://localhost:99999', /not a valid URL/],
    ['postgres://', /has no host/],
    ['postgresql://', /has no host/],
    ['postgres://localhost/a/b', /not a database name/],
  ] as const) {
    it(`refuses ${JSON.stringify(url)}`, () => {
      assert.throws(
        () => parseStoreUrl(url),
        (err) => err instanceof InvalidValueError && reason.test(err.message),
      );
    });
  }

  it('does not repeat a password in its errors', () => {
    for (const url of [
      'mysql://u:hunter2@h/db',
      'redis://u:hunter2@h:99999',
      'redis://:hunter2@h/x',
    ]) {
      assert.throws(
        () => parseStoreUrl(url),
        (err) => err instanceof InvalidValueError && !err.message.includes('hunter2'),
        url,
      );
    }
  });
});

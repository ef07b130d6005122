import assert from 'node:assert/strict';
import { PersistenceError } from '../../src/persistence/errors.js';
import { parseStoreUrl, redactUrl } from '../../src/persistence/store-url.js';

function assertInvalid(url: string, fragment: RegExp): void {
  assert.throws(
    () => parseStoreUrl(url, '/srv/exporter'),
    (err: unknown) => {
      assert.ok(err instanceof PersistenceError);
      assert.equal(err.code, 'INVALID_STORE_URL');
      assert.match(err.message, /--store\.url/);
      assert.match(err.message, fragment);
      return true;
    },
  );
}

describe('store URL', () => {
  it('resolves SQLite paths against the working directory', () => {
    assert.deepEqual(parseStoreUrl('sqlite://./data/chanfitness.sqlite', '/srv/exporter'), {
      kind: 'sqlite',
      path: '/srv/exporter/data/chanfitness.sqlite',
    });
    assert.deepEqual(parseStoreUrl('sqlite://data/x.db', '/srv/exporter'), {
      kind: 'sqlite',
      path: '/srv/exporter/data/x.db',
    });
    assert.deepEqual(parseStoreUrl('sqlite:///var/lib/cf/x.db', '/srv/exporter'), {
      kind: 'sqlite',
      path: '/var/lib/cf/x.db',
    });
    assert.deepEqual(parseStoreUrl('sqlite://:memory:'), { kind: 'sqlite', path: ':memory:' });
  });

  it('takes Redis and PostgreSQL URLs as given', () => {
    for (const url of [
      'redis://127.0.0.1:6379',
      'redis://:secret@redis.example:6379/2',
      'rediss://user:pw@redis.example',
    ]) {
      assert.deepEqual(parseStoreUrl(url), { kind: 'redis', url });
    }
    for (const url of [
      'postgres://postgres@127.0.0.1:5432/test',
      'postgresql://u:p@db.example/chanfitness?sslmode=require',
      'postgres:///chanfitness?host=/run/postgresql',
    ]) {
      assert.deepEqual(parseStoreUrl(url), { kind: 'postgres', url });
    }
  });

  it('rejects unknown schemes and malformed URLs with a settings error', () => {
    assertInvalid('mysql://root:pw@db/x', /unsupported scheme "mysql:"/);
    assertInvalid('./data/chanfitness.sqlite', /no scheme/);
    assertInvalid('sqlite://', /no file path/);
    assertInvalid('sqlite:data.db', /sqlite:\/\/<path>/);
    assertInvalid('redis://', /no host/);
    assertInvalid('redis://host:99999', /not a valid URL/);
    assertInvalid('redis://host:6379/db', /database number/);
    assertInvalid('postgres://', /no host/);
  });

  it('never puts the password in the error message', () => {
    assert.throws(
      () => parseStoreUrl('redis://user:hunter2@host:6379/x'),
      (err: unknown) => err instanceof Error && !err.message.includes('hunter2'),
    );
    assert.throws(
      () => parseStoreUrl('redis://user:hunter2@host:99999'),
      (err: unknown) => err instanceof Error && !err.message.includes('hunter2'),
    );
  });

  it('redacts passwords and secret query parameters for the logs', () => {
    assert.equal(redactUrl('redis://:hunter2@h:6379/1'), 'redis://:***@h:6379/1');
    assert.equal(
      redactUrl('postgres://me:hunter2@db:5432/x?sslmode=require'),
      'postgres://me:***@db:5432/x?sslmode=require',
    );
    assert.equal(
      redactUrl('postgres://db/x?user=me&password=hunter2'),
      'postgres://db/x?user=me&password=***',
    );
    assert.equal(redactUrl('redis://h:6379'), 'redis://h:6379');
    assert.equal(
      redactUrl('sqlite://./data/chanfitness.sqlite'),
      'sqlite://./data/chanfitness.sqlite',
    );
    // Not a URL: the whole user information goes.
    assert.equal(redactUrl('redis://me:hunter2@h:99999'), 'redis://***@h:99999');
  });
});

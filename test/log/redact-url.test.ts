import assert from 'node:assert/strict';
import { redactUrl } from '../../src/log/redact-url.js';

describe('redactUrl', () => {
  it('masks the password of the user information, keeping the user', () => {
    assert.equal(redactUrl('redis://:hunter2@h:6379/1'), 'redis://:***@h:6379/1');
    assert.equal(
      redactUrl('postgres://me:hunter2@db:5432/x?sslmode=require'),
      'postgres://me:***@db:5432/x?sslmode=require',
    );
    assert.equal(redactUrl('nats://lnd:hunter2@127.0.0.1:4222'), 'nats://lnd:***@127.0.0.1:4222');
  });

  it('masks the query parameters that carry secrets, and only those', () => {
    assert.equal(
      redactUrl('postgres://db/x?user=me&password=hunter2'),
      'postgres://db/x?user=me&password=***',
    );
    assert.equal(
      redactUrl('postgres://db/x?sslkey=/k.pem&sslmode=require&token=t0k&client_secret=s'),
      'postgres://db/x?sslkey=***&sslmode=require&token=***&client_secret=***',
    );
  });

  it('gives a URL without secrets back exactly as it was given', () => {
    for (const url of [
      'redis://h:6379',
      'redis://user@h:6379/0',
      'sqlite://./data/chanfitness.sqlite',
      'sqlite://:memory:',
      'postgres:///chanfitness?host=/run/postgresql',
    ]) {
      assert.equal(redactUrl(url), url);
    }
  });

  it('masks all of the user information of text that is not a URL', () => {
    // Port out of range: not a URL, the whole user information goes.
    assert.equal(redactUrl('redis://me:hunter2@h:99999'), 'redis://***@h:99999');
    assert.equal(redactUrl('mysql://u:hunter2@h:x/db'), 'mysql://***@h:x/db');
  });

  it('leaves text without a scheme or user information as it is', () => {
    for (const text of ['', './data/chanfitness.sqlite', 'localhost:6379', 'redis://h:99999']) {
      assert.equal(redactUrl(text), text);
    }
  });

  it('never gives the secret back, whatever the text', () => {
    for (const text of [
      'redis://:hunter2@h:6379',
      'rediss://user:hunter2@[::1]:6380/2',
      'postgres://u:hunter2@db/x?password=hunter2',
      'redis://u:hunter2@h:99999',
      'tls://u:hunter2@',
    ]) {
      assert.ok(!redactUrl(text).includes('hunter2'), text);
    }
  });
});

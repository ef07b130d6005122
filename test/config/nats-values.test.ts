import assert from 'node:assert/strict';

import {
  parseJetStreamName,
  parseNatsServers,
  parseNodeNames,
  parseSubjectPrefix,
} from '../../src/config/nats-values.js';
import { InvalidValueError } from '../../src/config/settings-error.js';

describe('NATS values', () => {
  describe('parseNatsServers', () => {
    it('reads one or more nats:// and tls:// servers, in order', () => {
      assert.deepEqual(parseNatsServers('nats://127.0.0.1:4222'), ['nats://127.0.0.1:4222']);
      assert.deepEqual(parseNatsServers('nats://a:4222, tls://b.example:4443,nats://[::1]:4222/'), [
        'nats://a:4222',
        'tls://b.example:4443',
        'nats://[::1]:4222',
      ]);
    });

    for (const [text, reason] of [
      ['', /empty item/],
      ['nats://a:4222,', /empty item/],
      ['127.0.0.1:4222', /not a URL/],
      ['localhost', /not a URL/],
      ['http://a:4222', /must start with nats:\/\/ or tls:\/\//],
      ['ws://a:8080', /WebSocket is not supported/],
      ['wss://a:443', /WebSocket is not supported/],
      ['nats://a', /has no port/],
      ['nats://a:0', /has no port/],
      ['nats://a:99999', /not a URL/],
      ['nats://:4222', /not a URL|has no host/],
      ['nats://a:4222/path', /must not have a path/],
      ['nats://a:4222?x=1', /must not have a path/],
      ['nats://user:pass@a:4222', /credentials in the URL are not used/],
      ['nats://token@a:4222', /credentials in the URL are not used/],
    ] as const) {
      it(`refuses ${JSON.stringify(text)}`, () => {
        assert.throws(
          () => parseNatsServers(text),
          (err) => err instanceof InvalidValueError && reason.test(err.message),
        );
      });
    }

    it('does not repeat credentials found in a URL', () => {
      assert.throws(
        () => parseNatsServers('nats://user:hunter2@a:4222'),
        (err) => err instanceof Error && !err.message.includes('hunter2'),
      );
    });
  });

  it('parseSubjectPrefix takes dot-separated tokens without wildcards or spaces', () => {
    assert.equal(parseSubjectPrefix('lnd'), 'lnd');
    assert.equal(parseSubjectPrefix('prod.lnd-1'), 'prod.lnd-1');
    for (const text of ['', 'a.', '.a', 'a..b', 'a.*', 'a.>', 'a b', 'lnd\t', '*']) {
      assert.throws(() => parseSubjectPrefix(text), InvalidValueError, JSON.stringify(text));
    }
  });

  it('parseNodeNames takes single tokens and drops duplicates', () => {
    assert.deepEqual(parseNodeNames('alice, bob ,alice'), ['alice', 'bob']);
    assert.deepEqual(parseNodeNames(`02${'ab'.repeat(32)}`), [`02${'ab'.repeat(32)}`]);
    for (const text of ['a.b', 'a,*', 'a,>', 'a b', 'a,,b']) {
      assert.throws(() => parseNodeNames(text), InvalidValueError, text);
    }
  });

  it('parseJetStreamName refuses separators, wildcards, spaces and paths', () => {
    assert.equal(parseJetStreamName('LND_EVENTS-1'), 'LND_EVENTS-1');
    for (const text of ['a.b', 'a*', 'a>', 'a b', 'a/b', 'a\\b', '']) {
      assert.throws(() => parseJetStreamName(text), InvalidValueError, text);
    }
  });
});

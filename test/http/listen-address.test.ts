import assert from 'node:assert/strict';
import { HttpServerError } from '../../src/http/errors.js';
import {
  DEFAULT_LISTEN_ADDRESS,
  formatListenAddress,
  isLoopback,
  parseListenAddress,
} from '../../src/http/listen-address.js';

describe('parseListenAddress', () => {
  for (const [input, host, port] of [
    [DEFAULT_LISTEN_ADDRESS, '127.0.0.1', 9766],
    ['[::1]:9766', '::1', 9766],
    ['localhost:0', 'localhost', 0],
    ['exporter.example.org:65535', 'exporter.example.org', 65535],
    [':9766', '', 9766],
    ['[::]:80', '::', 80],
    ['0.0.0.0:9766', '0.0.0.0', 9766],
  ] as const) {
    it(`reads ${input}`, () => {
      const address = parseListenAddress(input);
      assert.deepEqual(address, { host, port });
      assert.equal(formatListenAddress(address), input);
    });
  }

  for (const input of [
    '',
    '9766',
    '127.0.0.1',
    '127.0.0.1:',
    '127.0.0.1:http',
    '127.0.0.1:65536',
    '127.0.0.1:-1',
    '127.0.0.1:97 66',
    '::1:9766',
    '[::1]9766',
    '[::1:9766',
    '[not-v6]:9766',
    'bad host:9766',
    'under_score:9766',
  ]) {
    it(`rejects ${JSON.stringify(input)} naming the flag`, () => {
      assert.throws(
        () => parseListenAddress(input),
        (err: unknown) =>
          err instanceof HttpServerError &&
          err.code === 'INVALID_LISTEN_ADDRESS' &&
          err.message.includes('--web.listen-address'),
      );
    });
  }

  it('tells loopback hosts apart', () => {
    assert.ok(isLoopback('127.0.0.1'));
    assert.ok(isLoopback('127.1.2.3'));
    assert.ok(isLoopback('::1'));
    assert.ok(isLoopback('localhost'));
    assert.ok(!isLoopback(''));
    assert.ok(!isLoopback('0.0.0.0'));
    assert.ok(!isLoopback('::'));
    assert.ok(!isLoopback('192.168.1.10'));
  });
});

import assert from 'node:assert/strict';
import { formatHostPort, isLoopback } from '../../src/http/listen-address.js';

describe('listen address helpers', () => {
  it('formats host and port, IPv6 in brackets, every interface as :port', () => {
    assert.equal(formatHostPort('127.0.0.1', 9766), '127.0.0.1:9766');
    assert.equal(formatHostPort('::1', 9766), '[::1]:9766');
    assert.equal(formatHostPort(undefined, 9766), ':9766');
  });

  it('knows loopback hosts', () => {
    assert.ok(isLoopback('127.0.0.1'));
    assert.ok(isLoopback('127.1.2.3'));
    assert.ok(isLoopback('::1'));
    assert.ok(isLoopback('localhost'));
    assert.ok(!isLoopback(undefined));
    assert.ok(!isLoopback('0.0.0.0'));
    assert.ok(!isLoopback('::'));
    assert.ok(!isLoopback('192.168.1.10'));
  });
});

import assert from 'node:assert/strict';

import { parseListenAddress } from '../../src/config/listen-address.js';
import { InvalidValueError } from '../../src/config/settings-error.js';

describe('parseListenAddress', () => {
  for (const [text, host, port] of [
    ['127.0.0.1:9766', '127.0.0.1', 9766],
    ['0.0.0.0:80', '0.0.0.0', 80],
    ['localhost:9766', 'localhost', 9766],
    ['exporter.example.com:443', 'exporter.example.com', 443],
    ['[::1]:9766', '::1', 9766],
    ['[::]:0', '::', 0],
    ['[fe80::1%eth0]:9766', 'fe80::1%eth0', 9766],
    [':9766', undefined, 9766],
    ['127.0.0.1:65535', '127.0.0.1', 65535],
  ] as const) {
    it(`reads ${text}`, () => {
      assert.deepEqual(parseListenAddress(text), { address: text, host, port });
    });
  }

  for (const text of [
    '',
    '9766',
    'localhost',
    '::1:9766',
    '[::1]',
    '[::1]9766',
    '[localhost]:9766',
    '127.0.0.1:65536',
    '127.0.0.1:-1',
    '127.0.0.1:',
    '127.0.0.1:http',
    '999.0.0.1:9766',
    'bad_host:9766',
    'host name:9766',
    'http://localhost:9766',
  ]) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseListenAddress(text), InvalidValueError);
    });
  }
});

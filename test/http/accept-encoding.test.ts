import assert from 'node:assert/strict';
import { acceptsGzip } from '../../src/http/accept-encoding.js';

describe('acceptsGzip', () => {
  for (const [header, expected] of [
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['GZIP', true],
    ['x-gzip', true],
    ['deflate, gzip;q=1.0, *;q=0.5', true],
    ['gzip;q=0', false],
    ['gzip;q=0.0, identity', false],
    ['identity', false],
    ['deflate, br', false],
    ['*', true],
    ['*;q=0', false],
    ['gzip;q=0, *', false],
    [['deflate', 'gzip'], true],
  ] as const) {
    it(`${JSON.stringify(header)} -> ${expected}`, () => {
      assert.equal(acceptsGzip(header as string | string[] | undefined), expected);
    });
  }
});

import assert from 'node:assert/strict';
import { acceptsGzip, preferredCoding } from '../../src/http/accept-encoding.js';

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

describe('preferredCoding', () => {
  for (const [header, expected] of [
    [undefined, undefined],
    ['', undefined],
    ['identity', undefined],
    ['gzip', 'gzip'],
    ['br', 'br'],
    ['BR', 'br'],
    // Browsers send all three at quality 1: the server's first choice wins the tie.
    ['gzip, deflate, br', 'br'],
    ['gzip, deflate, br, zstd', 'br'],
    ['x-gzip', 'gzip'],
    ['br;q=0.5, gzip', 'gzip'],
    ['br;q=0, gzip;q=0.1', 'gzip'],
    ['br;q=0, gzip;q=0', undefined],
    ['deflate', undefined],
    ['*', 'br'],
    ['*;q=0', undefined],
    ['br;q=0, *', 'gzip'],
    ['gzip;q=0.8, *;q=0.9', 'br'],
    ['br;q=1.2.3, gzip', 'gzip'],
    [['deflate', 'gzip'], 'gzip'],
  ] as const) {
    it(`${JSON.stringify(header)} -> ${String(expected)}`, () => {
      assert.equal(
        preferredCoding(header as string | string[] | undefined, ['br', 'gzip']),
        expected,
      );
    });
  }

  it('offers only what the server offers', () => {
    assert.equal(preferredCoding('br, gzip', ['gzip']), 'gzip');
    assert.equal(preferredCoding('br', ['gzip']), undefined);
  });
});

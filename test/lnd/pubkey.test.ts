import assert from 'node:assert/strict';
import { isPubkeyHex, parsePubkey } from '../../src/lnd/pubkey.js';
import { assertRejects, PUBKEY, PUBKEY_03, PUBKEY_UPPER } from './fixtures.js';

describe('parsePubkey', () => {
  it('accepts 66 lower-case hex chars starting 02 or 03 and returns the same string', () => {
    assert.equal(parsePubkey(PUBKEY), PUBKEY);
    assert.equal(parsePubkey(PUBKEY_03), PUBKEY_03);
  });

  it('accepts upper and mixed case and returns lower case', () => {
    assert.equal(parsePubkey(PUBKEY_UPPER), PUBKEY);
    const mixed = `03${'aB'.repeat(32)}`;
    assert.equal(parsePubkey(mixed), `03${'ab'.repeat(32)}`);
  });

  const bad: [string, unknown][] = [
    ['prefix 04 (uncompressed)', `04${'ab'.repeat(32)}`],
    ['prefix 00', `00${'ab'.repeat(32)}`],
    ['65 chars', PUBKEY.slice(0, 65)],
    ['67 chars', `${PUBKEY}a`],
    ['130-char uncompressed key', `04${'ab'.repeat(64)}`],
    ['a non-hex char', `02${'ab'.repeat(31)}ag`],
    ['whitespace', ` ${PUBKEY.slice(1)}`],
    ['0x prefix', `0x${PUBKEY.slice(2)}`],
    ['empty string', ''],
    ['a number', 2],
    ['null', null],
    ['an object', { pub_key: PUBKEY }],
  ];
  for (const [what, value] of bad) {
    it(`rejects ${what} as invalid_pubkey`, () => {
      assertRejects(() => parsePubkey(value), 'invalid_pubkey');
    });
  }

  it('names the field in the error message', () => {
    assert.throws(
      () => parsePubkey('x', 'open_channel.remote_pubkey'),
      /open_channel\.remote_pubkey/,
    );
  });

  it('isPubkeyHex checks without throwing', () => {
    assert.equal(isPubkeyHex(PUBKEY_UPPER), true);
    assert.equal(isPubkeyHex('02'), false);
  });
});

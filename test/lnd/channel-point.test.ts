import assert from 'node:assert/strict';
import { canonicalChannelPoint, parseChannelPoint } from '../../src/lnd/channel-point.js';
import { assertRejects, CHANNEL_POINT, TXID } from './fixtures.js';

describe('parseChannelPoint', () => {
  it('accepts <64 hex txid>:<index> and returns it unchanged when canonical', () => {
    assert.equal(parseChannelPoint(CHANNEL_POINT), CHANNEL_POINT);
    assert.equal(parseChannelPoint(`${TXID}:0`), `${TXID}:0`);
  });

  it('lower-cases the txid', () => {
    assert.equal(parseChannelPoint(`${TXID.toUpperCase()}:7`), `${TXID}:7`);
  });

  it('accepts the largest uint32 index', () => {
    assert.equal(parseChannelPoint(`${TXID}:4294967295`), `${TXID}:4294967295`);
  });

  it('drops leading zeros of the index, which lnd parses too', () => {
    assert.equal(parseChannelPoint(`${TXID}:007`), `${TXID}:7`);
    assert.equal(parseChannelPoint(`${TXID.toUpperCase()}:000`), `${TXID}:0`);
  });

  const bad: [string, unknown][] = [
    ['an index over uint32', `${TXID}:4294967296`],
    ['a huge index', `${TXID}:${'9'.repeat(400)}`],
    ['a negative index', `${TXID}:-1`],
    ['a signed index', `${TXID}:+1`],
    ['an empty index', `${TXID}:`],
    ['no index', TXID],
    ['trailing junk', `${TXID}:1 `],
    ['leading junk in the index', `${TXID}: 1`],
    ['a decimal index', `${TXID}:1.0`],
    ['an exponent index', `${TXID}:1e3`],
    ['a 63-char txid', `${TXID.slice(1)}:1`],
    ['a 65-char txid', `${TXID}a:1`],
    ['a non-hex txid', `${TXID.slice(1)}g:1`],
    ['another separator', `${TXID}/1`],
    ['two separators', `${TXID}:1:2`],
    ['a number', 1],
    ['an lnrpc.ChannelPoint object', { funding_txid_str: TXID, output_index: 1 }],
    ['null', null],
  ];
  for (const [what, value] of bad) {
    it(`rejects ${what} as invalid_channel_point`, () => {
      assertRejects(() => parseChannelPoint(value), 'invalid_channel_point');
    });
  }

  it('canonicalChannelPoint answers undefined instead of throwing', () => {
    assert.equal(canonicalChannelPoint('nope'), undefined);
    assert.equal(canonicalChannelPoint(CHANNEL_POINT), CHANNEL_POINT);
  });
});

import assert from 'node:assert/strict';
import { DecodeError } from '../../src/lnd/decode-error.js';
import type { RejectReason } from '../../src/lnd/reject-reason.js';
import { lndChannelPoint } from '../support/lnd-json.js';

export const PUBKEY = `02${'ab'.repeat(32)}`;
export const PUBKEY_UPPER = PUBKEY.toUpperCase();
export const PUBKEY_03 = `03${'0f'.repeat(32)}`;
export const TXID = 'c0ffee'.padEnd(64, '1');
export const CHANNEL_POINT = `${TXID}:1`;

/** Asserts fn throws a DecodeError whose code is reason. */
export function assertRejects(fn: () => unknown, reason: RejectReason): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DecodeError, `expected a DecodeError, got ${String(err)}`);
    assert.equal(err.code, reason, err.message);
    return true;
  });
}

/** JSON text of a value, for payloads written as objects. */
export const json = (value: unknown): string => JSON.stringify(value);

/** An lnrpc.ChannelPoint of CHANNEL_POINT as lnd's REST API prints it (bytes in base64). */
export const lndChannelPointMessage = lndChannelPoint(CHANNEL_POINT);

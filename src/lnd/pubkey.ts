import { DecodeError } from './decode-error.js';
import { isHex, toLowerHex } from './hex.js';

/** Hex length of a 33-byte compressed secp256k1 public key. */
const PUBKEY_HEX_LENGTH = 66;

/**
 * A node pubkey as lnd prints it: a 33-byte compressed key in hex (66 chars,
 * `02` or `03` first). Upper-case hex is accepted; the result is lower case so
 * that one key is one label value and one map key.
 */
export function parsePubkey(value: unknown, field = 'pubkey'): string {
  if (typeof value !== 'string' || !isPubkeyHex(value)) {
    throw new DecodeError(
      'invalid_pubkey',
      `${field}: expected a 33-byte compressed public key (66 hex chars starting 02 or 03)`,
    );
  }
  return toLowerHex(value);
}

/** True when value is 66 hex chars starting 02 or 03 (either case). */
export function isPubkeyHex(value: string): boolean {
  if (value.length !== PUBKEY_HEX_LENGTH || value.charCodeAt(0) !== 0x30) return false; // '0'
  const second = value.charCodeAt(1);
  if (second !== 0x32 && second !== 0x33) return false; // '2' | '3'
  return isHex(value, 2, PUBKEY_HEX_LENGTH);
}

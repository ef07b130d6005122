import { DecodeError } from './decode-error.js';
import { isHex, toLowerHex } from './hex.js';

/** Hex length of a 33-byte compressed secp256k1 public key. */
const PUBKEY_HEX_LENGTH = 66;

/**
 * Pubkeys already accepted, by a number read from their first hex digits.
 * Nearly every event names a peer seen before: finding it by that number and
 * comparing the strings costs a small part of checking 66 characters (or of
 * hashing them for a map of strings), and the string found is the same one
 * the stores already hold. Only valid keys enter; the first key of a number
 * keeps it (another key with the same digits, which no real peer has, is
 * simply checked in full every time); the map is emptied when full, so it
 * stays bounded whatever arrives.
 */
const accepted = new Map<number, string>();
const MAX_ACCEPTED = 1 << 16;
/** Hex digits after the 02/03 prefix that make the number: 52 bits, exact in a double. */
const KEY_DIGITS = 13;

/**
 * A node pubkey as lnd prints it: a 33-byte compressed key in hex (66 chars,
 * `02` or `03` first). Upper-case hex is accepted; the result is lower case so
 * that one key is one label value and one map key.
 */
export function parsePubkey(value: unknown, field = 'pubkey'): string {
  const canonical = typeof value === 'string' ? canonicalPubkey(value) : undefined;
  if (canonical === undefined) {
    throw new DecodeError(
      'invalid_pubkey',
      `${field}: expected a 33-byte compressed public key (66 hex chars starting 02 or 03)`,
    );
  }
  return canonical;
}

/** The pubkey in lower case, or undefined when value is not one. */
export function canonicalPubkey(value: string): string | undefined {
  if (value.length !== PUBKEY_HEX_LENGTH) return undefined;
  const number = leadingNumber(value);
  const known = accepted.get(number);
  if (known !== undefined && known === value) return known;
  if (!isPubkeyHex(value)) return undefined;
  // A copy of its own: value may be a slice of a whole message, which the
  // map (and the stores, which keep the canonical string) would keep alive.
  const canonical = toLowerHex(Buffer.from(value, 'latin1').toString('latin1'));
  if (known === undefined) {
    if (accepted.size >= MAX_ACCEPTED) accepted.clear();
    accepted.set(leadingNumber(canonical), canonical);
  }
  return canonical;
}

/** True when value is 66 hex chars starting 02 or 03 (either case). */
export function isPubkeyHex(value: string): boolean {
  if (value.length !== PUBKEY_HEX_LENGTH || value.charCodeAt(0) !== 0x30) return false; // '0'
  const second = value.charCodeAt(1);
  if (second !== 0x32 && second !== 0x33) return false; // '2' | '3'
  return isHex(value, 2, PUBKEY_HEX_LENGTH);
}

/**
 * A number from the character codes of the first hex digits after the prefix
 * (the prefix digit included, so 02… and 03… differ). Any characters give a
 * number; only a string equal to the one found counts.
 */
function leadingNumber(value: string): number {
  let n = value.charCodeAt(1) & 1;
  for (let i = 2; i < 2 + KEY_DIGITS; i++) {
    // '0'-'9' -> 0-9, 'a'-'f' and 'A'-'F' -> 10-15 (other characters: some number).
    const c = value.charCodeAt(i);
    n = n * 16 + (c & 0x0f) + (c >> 6) * 9;
  }
  return n;
}

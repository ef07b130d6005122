import { DecodeError } from './decode-error.js';
import { isHex, toLowerHex } from './hex.js';

const TXID_HEX_LENGTH = 64;
const MAX_OUTPUT_INDEX = 0xffffffff;

/**
 * A channel point as lnd's REST JSON prints it: `<64 hex txid>:<output index>`,
 * the index a decimal uint32 without sign. Returned in canonical form (txid lower
 * case, index without the leading zeros lnd's own parser tolerates) so that one
 * channel is one key.
 */
export function parseChannelPoint(value: unknown, field = 'channel_point'): string {
  const canonical = typeof value === 'string' ? canonicalChannelPoint(value) : undefined;
  if (canonical === undefined) {
    throw new DecodeError(
      'invalid_channel_point',
      `${field}: expected "<64 hex txid>:<output index>" with a uint32 index`,
    );
  }
  return canonical;
}

/** The canonical form of a channel point, or undefined when value is not one. */
export function canonicalChannelPoint(value: string): string | undefined {
  const length = value.length;
  const indexStart = TXID_HEX_LENGTH + 1;
  if (length <= indexStart || value.charCodeAt(TXID_HEX_LENGTH) !== 0x3a) return undefined; // ':'
  if (!isHex(value, 0, TXID_HEX_LENGTH)) return undefined;
  let index = 0;
  for (let i = indexStart; i < length; i++) {
    const digit = value.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    index = index * 10 + digit;
    // Checked per digit so that a long digit string stops early; exact below 2^53.
    if (index > MAX_OUTPUT_INDEX) return undefined;
  }
  const leadingZero = value.charCodeAt(indexStart) === 0x30 && length > indexStart + 1;
  if (!leadingZero) return toLowerHex(value);
  return `${toLowerHex(value.slice(0, TXID_HEX_LENGTH))}:${index}`;
}

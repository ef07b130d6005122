/**
 * The channel-event scanner that src/lnd/decode-channel-event.ts had before it
 * was weighed and deleted with the peer-event scanner, kept here as it was so
 * that bench/fast-path-decoder.bench.ts can weigh it again.
 */
import { CHANNEL_EVENT_FIELD } from '../../../src/lnd/channel-event-fields.js';
import {
  CHANNEL_EVENT_TYPES,
  type ChannelEventMessage,
  type ChannelEventType,
} from '../../../src/lnd/messages.js';
import { rfc3339ToMs } from '../../../src/lnd/timestamp.js';

/** The types whose payload is only checked to be an object: all but opens and closes. */
type PlainType = Exclude<ChannelEventType, 'OPEN_CHANNEL' | 'CLOSED_CHANNEL'>;

/** By payload field: its type and the text that follows the payload in lnd's layout. */
const PLAIN_FIELDS: ReadonlyMap<string, { type: PlainType; middle: string }> = new Map(
  CHANNEL_EVENT_TYPES.filter(
    (type): type is PlainType => type !== 'OPEN_CHANNEL' && type !== 'CLOSED_CHANNEL',
  ).map((type) => [CHANNEL_EVENT_FIELD[type], { type, middle: `,"type":"${type}","timestamp":"` }]),
);

const WRAPPED_HEAD = '{"result":';
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;

/**
 * The fast path of decodeChannelEvent for the events that change nothing but
 * are counted — a link going up or down (ACTIVE_CHANNEL, INACTIVE_CHANNEL:
 * a good part of a busy stream), PENDING_OPEN_CHANNEL, ... — in the layout
 * lnd prints them, bare or wrapped as `{"result":…}`, without whitespace:
 * `{"<field>":{<payload>},"type":"<TYPE>","timestamp":"<RFC 3339>"}`.
 *
 * The payload must be a flat object of strings and numbers (a ChannelPoint, a
 * PendingUpdate), checked to be valid JSON; its contents do not matter, as on
 * the general path. Anything else — another layout, a nested value, an
 * escape, a field that does not match the type, an open or a close — gives
 * undefined and the general path (JSON.parse) decides, as it always has.
 */
export function scanChannelEvent(text: string): ChannelEventMessage | undefined {
  let i = 0;
  let closing = 1;
  if (text.startsWith(WRAPPED_HEAD)) {
    i = WRAPPED_HEAD.length;
    closing = 2;
  }
  if (text.charCodeAt(i) !== OPEN_BRACE || text.charCodeAt(i + 1) !== QUOTE) return undefined;
  const fieldEnd = text.indexOf('"', i + 2);
  if (fieldEnd < 0) return undefined;
  const plain = PLAIN_FIELDS.get(text.slice(i + 2, fieldEnd));
  if (plain === undefined || text.charCodeAt(fieldEnd + 1) !== COLON) return undefined;
  const payloadEnd = flatObjectEnd(text, fieldEnd + 2);
  if (payloadEnd < 0 || !text.startsWith(plain.middle, payloadEnd)) return undefined;
  const tsStart = payloadEnd + plain.middle.length;
  // `"}` or `"}}` ends the text.
  const tsEnd = text.length - 1 - closing;
  if (tsEnd <= tsStart || text.charCodeAt(tsEnd) !== QUOTE) return undefined;
  for (let j = tsEnd + 1; j < text.length; j++) {
    if (text.charCodeAt(j) !== CLOSE_BRACE) return undefined;
  }
  // The strict RFC 3339 form has no quote, backslash or brace: the timestamp is the whole string.
  const timestamp = rfc3339ToMs(text.slice(tsStart, tsEnd));
  if (timestamp === undefined) return undefined;
  return { type: plain.type, timestamp };
}

/**
 * The index after a JSON object at i whose members are strings (without
 * escapes or control characters) and numbers, without whitespace; -1 when
 * the text there is anything else.
 */
function flatObjectEnd(text: string, i: number): number {
  if (text.charCodeAt(i) !== OPEN_BRACE) return -1;
  i++;
  if (text.charCodeAt(i) === CLOSE_BRACE) return i + 1;
  for (;;) {
    i = plainStringEnd(text, i);
    if (i < 0 || text.charCodeAt(i) !== COLON) return -1;
    i++;
    i = text.charCodeAt(i) === QUOTE ? plainStringEnd(text, i) : numberEnd(text, i);
    if (i < 0) return -1;
    const c = text.charCodeAt(i);
    if (c === CLOSE_BRACE) return i + 1;
    if (c !== COMMA) return -1;
    i++;
  }
}

/** The index after a string starting at i with no escape or control character; -1 otherwise. */
function plainStringEnd(text: string, i: number): number {
  if (text.charCodeAt(i) !== QUOTE) return -1;
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === QUOTE) return j + 1;
    if (c === 0x5c || c < 0x20) return -1; // backslash, control character
  }
  return -1;
}

/** The index after a JSON number at i (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?); -1 otherwise. */
function numberEnd(text: string, i: number): number {
  if (text.charCodeAt(i) === 0x2d) i++; // '-'
  const first = text.charCodeAt(i);
  if (first === 0x30) {
    i++; // a lone 0: no leading zeros
  } else if (first >= 0x31 && first <= 0x39) {
    i = digitsEnd(text, i + 1);
  } else {
    return -1;
  }
  if (text.charCodeAt(i) === 0x2e) {
    // '.'
    const end = digitsEnd(text, i + 1);
    if (end === i + 1) return -1;
    i = end;
  }
  if ((text.charCodeAt(i) | 0x20) === 0x65) {
    // 'e' or 'E'
    i++;
    const sign = text.charCodeAt(i);
    if (sign === 0x2b || sign === 0x2d) i++; // '+' | '-'
    const end = digitsEnd(text, i);
    if (end === i) return -1;
    i = end;
  }
  return i;
}

function digitsEnd(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (!(c >= 0x30 && c <= 0x39)) return i;
    i++;
  }
}

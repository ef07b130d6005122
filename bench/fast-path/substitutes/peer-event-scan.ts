/**
 * The peer-event scanner that src/lnd/decode-peer-event.ts had before it was
 * weighed and deleted (it gained under 10% on the whole ingest path), kept
 * here as it was so that bench/fast-path-decoder.bench.ts can weigh it again.
 */
import type { PeerEventMessage } from '../../../src/lnd/messages.js';
import { canonicalPubkey } from '../../../src/lnd/pubkey.js';
import { rfc3339ToMs } from '../../../src/lnd/timestamp.js';

/**
 * The fast path of decodePeerEvent: most messages of a busy node are peer
 * events in one of the two forms lnd prints,
 * `{"pub_key":"02…","type":"PEER_OFFLINE","timestamp":"…"}` and the same
 * wrapped as `{"result":{…}}`, and reading those three strings straight from
 * the text costs about what JSON.parse alone does, without building objects.
 *
 * It answers only for text it fully understands: a JSON object (whitespace
 * allowed) whose members are `pub_key`, `type` and `timestamp` with string
 * values, or `result` holding such an object beside an optional `timestamp`;
 * no escape anywhere, no member twice, valid values. Anything else — another
 * member, a null, a number, an escape, a duplicate, an invalid value, text
 * after the object — gives undefined, and the caller takes the general path
 * (JSON.parse), which then decides exactly as it always has. Where this
 * answers, it answers what the general path would.
 *
 * Strings are found with indexOf (a character loop in JavaScript costs more
 * than JSON.parse); without escapes a string is the text between its quotes.
 * A control character, which JSON does not allow raw in a string, can only
 * end up in a key or a value, and no key or value with one is accepted.
 */
export function scanPeerEvent(text: string): PeerEventMessage | undefined {
  const printed = scanPrinted(text);
  if (printed !== undefined) return printed;
  if (text.indexOf('\\') !== -1) return undefined;
  const scan = scanner;
  scan.reset(text);
  let i = scan.skipSpace(0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return undefined;
  i = scan.members(i + 1, OUTER);
  if (i < 0 || scan.skipSpace(i) !== text.length) return undefined;
  const slots = scan.slots;
  // Wrapped: the body is the inner object, and a pub_key or type beside
  // `result` (which lnd never sends) is left to the general path.
  const body = scan.wrapped ? INNER : OUTER;
  if (scan.wrapped && (slots[OUTER + PUB_KEY] !== -1 || slots[OUTER + TYPE] !== -1)) {
    return undefined;
  }
  const pubStart = slots[body + PUB_KEY] ?? -1;
  if (pubStart === -1) return undefined;
  const pubkey = canonicalPubkey(text.slice(pubStart, slots[body + PUB_KEY + 1]));
  if (pubkey === undefined) return undefined;

  let type: PeerEventMessage['type'] = 'PEER_ONLINE'; // proto3's default when absent
  const typeStart = slots[body + TYPE] ?? -1;
  if (typeStart !== -1) {
    const length = (slots[body + TYPE + 1] ?? 0) - typeStart;
    if (length === 11 && text.startsWith('PEER_ONLINE', typeStart)) type = 'PEER_ONLINE';
    else if (length === 12 && text.startsWith('PEER_OFFLINE', typeStart)) type = 'PEER_OFFLINE';
    else return undefined;
  }

  // The body's timestamp, else the wrapper's.
  let tsSlot = body + TIMESTAMP;
  if ((slots[tsSlot] ?? -1) === -1 && scan.wrapped) tsSlot = OUTER + TIMESTAMP;
  let timestamp: number | undefined;
  const tsStart = slots[tsSlot] ?? -1;
  if (tsStart !== -1) {
    timestamp = rfc3339ToMs(text.slice(tsStart, slots[tsSlot + 1]));
    if (timestamp === undefined) return undefined;
  }
  return { type, pubkey, timestamp };
}

const BARE_HEAD = '{"pub_key":"';
const WRAPPED_HEAD = '{"result":{"pub_key":"';
const ONLINE_MIDDLE = '","type":"PEER_ONLINE","timestamp":"';
const OFFLINE_MIDDLE = '","type":"PEER_OFFLINE","timestamp":"';
const PUBKEY_LENGTH = 66;

/**
 * The layout lnd's members come in, with the bridge's timestamp last, bare
 * or wrapped, without whitespace: recognised with a few comparisons of whole
 * pieces. Nothing else is accepted: between its fixed pieces there are only
 * the pubkey and the timestamp, both checked character by character (hex
 * digits; the strict RFC 3339 form), so the text is this JSON object and
 * nothing else.
 */
function scanPrinted(text: string): PeerEventMessage | undefined {
  let at: number;
  let closing: number;
  if (text.startsWith(BARE_HEAD)) {
    at = BARE_HEAD.length;
    closing = 1;
  } else if (text.startsWith(WRAPPED_HEAD)) {
    at = WRAPPED_HEAD.length;
    closing = 2;
  } else {
    return undefined;
  }
  const pubkeyEnd = at + PUBKEY_LENGTH;
  let type: PeerEventMessage['type'];
  let tsStart: number;
  if (text.startsWith(OFFLINE_MIDDLE, pubkeyEnd)) {
    type = 'PEER_OFFLINE';
    tsStart = pubkeyEnd + OFFLINE_MIDDLE.length;
  } else if (text.startsWith(ONLINE_MIDDLE, pubkeyEnd)) {
    type = 'PEER_ONLINE';
    tsStart = pubkeyEnd + ONLINE_MIDDLE.length;
  } else {
    return undefined;
  }
  // `"}` or `"}}` ends the text.
  const tsEnd = text.length - 1 - closing;
  if (tsEnd <= tsStart || text.charCodeAt(tsEnd) !== QUOTE) return undefined;
  for (let i = tsEnd + 1; i < text.length; i++) {
    if (text.charCodeAt(i) !== CLOSE_BRACE) return undefined;
  }
  const pubkey = canonicalPubkey(text.slice(at, pubkeyEnd));
  if (pubkey === undefined) return undefined;
  const timestamp = rfc3339ToMs(text.slice(tsStart, tsEnd));
  if (timestamp === undefined) return undefined;
  return { type, pubkey, timestamp };
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;

/** Slot offsets: [start, end) of each member's string value, outer object then inner. */
const PUB_KEY = 0;
const TYPE = 2;
const TIMESTAMP = 4;
const OUTER = 0;
const INNER = 6;

/** One scan at a time (JavaScript runs one): the positions live in a reused array. */
class Scanner {
  text = '';
  wrapped = false;
  readonly slots = new Int32Array(12);

  reset(text: string): void {
    this.text = text;
    this.wrapped = false;
    this.slots.fill(-1);
  }

  /** The index of the first character at or after i that is not JSON whitespace. */
  skipSpace(i: number): number {
    const { text } = this;
    for (;;) {
      const c = text.charCodeAt(i);
      // space, \t, \n, \r
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
      i++;
    }
  }

  /**
   * Reads the members of an object whose `{` is just before i, up to its `}`;
   * returns the index after the `}`, or -1 when the fast path does not apply.
   */
  members(i: number, object: number): number {
    const { text, slots } = this;
    i = this.skipSpace(i);
    if (text.charCodeAt(i) === CLOSE_BRACE) return i + 1;
    for (;;) {
      if (text.charCodeAt(i) !== QUOTE) return -1;
      const keyStart = i + 1;
      const keyEnd = text.indexOf('"', keyStart);
      if (keyEnd < 0) return -1;
      i = this.skipSpace(keyEnd + 1);
      if (text.charCodeAt(i) !== COLON) return -1;
      i = this.skipSpace(i + 1);
      const keyLength = keyEnd - keyStart;
      if (object === OUTER && keyLength === 6 && text.startsWith('result', keyStart)) {
        if (this.wrapped || text.charCodeAt(i) !== OPEN_BRACE) return -1;
        this.wrapped = true;
        i = this.members(i + 1, INNER);
        if (i < 0) return -1;
      } else {
        let slot: number;
        if (keyLength === 7 && text.startsWith('pub_key', keyStart)) slot = object + PUB_KEY;
        else if (keyLength === 4 && text.startsWith('type', keyStart)) slot = object + TYPE;
        else if (keyLength === 9 && text.startsWith('timestamp', keyStart)) {
          slot = object + TIMESTAMP;
        } else return -1;
        if (slots[slot] !== -1 || text.charCodeAt(i) !== QUOTE) return -1;
        const valueEnd = text.indexOf('"', i + 1);
        if (valueEnd < 0) return -1;
        slots[slot] = i + 1;
        slots[slot + 1] = valueEnd;
        i = valueEnd + 1;
      }
      i = this.skipSpace(i);
      const c = text.charCodeAt(i);
      if (c === CLOSE_BRACE) return i + 1;
      if (c !== COMMA) return -1;
      i = this.skipSpace(i + 1);
    }
  }
}

const scanner = new Scanner();

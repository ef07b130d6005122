import { DecodeError } from './decode-error.js';
import { canonicalChannelPoint } from './channel-point.js';
import {
  MAX_RPC_REPLY_BYTES,
  isJsonObject,
  jsonKind,
  parseJsonObject,
  unwrapResult,
} from './json-payload.js';
import type { ListedChannel } from './messages.js';
import { canonicalPubkey } from './pubkey.js';

/** The open channels of a ListChannelsResponse. */
export interface ListedChannels {
  readonly channels: ListedChannel[];
  /** Entries left out because their pubkey or channel point was not valid: for a log line. */
  readonly skipped: number;
}

/** The connected peers of a ListPeersResponse. */
export interface ListedPeers {
  /** Pubkeys, lower-case hex. */
  readonly peers: string[];
  /** Entries left out because their pubkey was not valid: for a log line. */
  readonly skipped: number;
}

/**
 * Decodes lnd's ListChannelsResponse JSON `{"channels": [{"remote_pubkey",
 * "channel_point", "uptime", "lifetime", …}]}`, bare or wrapped. A bad entry
 * is skipped and counted rather than failing the whole bootstrap; a bad
 * `uptime` or `lifetime` only leaves that figure out. Throws DecodeError when the reply
 * itself is unusable (over 64 MiB, not JSON, `channels` not a list).
 */
export function decodeListChannels(data: Uint8Array | string): ListedChannels {
  const entries = listField(data, 'channels');
  const channels: ListedChannel[] = [];
  let skipped = 0;
  for (const entry of entries) {
    if (!isJsonObject(entry)) {
      skipped++;
      continue;
    }
    const pubkey = entry.remote_pubkey;
    const point = entry.channel_point;
    const channelPoint = typeof point === 'string' ? canonicalChannelPoint(point) : undefined;
    const canonical = typeof pubkey === 'string' ? canonicalPubkey(pubkey) : undefined;
    if (canonical === undefined || channelPoint === undefined) {
      skipped++;
      continue;
    }
    // lnd's own figures ride along; a malformed one is left out, never the channel.
    const uptime = lndSeconds(entry.uptime);
    const lifetime = lndSeconds(entry.lifetime);
    channels.push({
      pubkey: canonical,
      channelPoint,
      ...(uptime === undefined ? {} : { uptimeSeconds: uptime }),
      ...(lifetime === undefined ? {} : { lifetimeSeconds: lifetime }),
    });
  }
  return { channels, skipped };
}

/** At most 16 digits: every such count of seconds below 2^53 is exact. */
const SECONDS_TEXT = /^[0-9]{1,16}$/;

/**
 * An int64 count of seconds as lnd's REST API prints it (a decimal string) or
 * as a JSON number: a non-negative whole number up to 2^53 - 1; else undefined
 * (absent, negative, fractional, not a number).
 */
export function lndSeconds(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'string') {
    if (!SECONDS_TEXT.test(value)) return undefined;
    n = Number(value);
  } else if (typeof value === 'number') {
    n = value;
  } else {
    return undefined;
  }
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Decodes lnd's ListPeersResponse JSON `{"peers": [{"pub_key", …}]}`, bare or
 * wrapped; bad entries are skipped and counted. Throws DecodeError when the
 * reply itself is unusable.
 */
export function decodeListPeers(data: Uint8Array | string): ListedPeers {
  const entries = listField(data, 'peers');
  const peers: string[] = [];
  let skipped = 0;
  for (const entry of entries) {
    const pubkey = isJsonObject(entry) ? entry.pub_key : undefined;
    const canonical = typeof pubkey === 'string' ? canonicalPubkey(pubkey) : undefined;
    if (canonical === undefined) {
      skipped++;
      continue;
    }
    peers.push(canonical);
  }
  return { peers, skipped };
}

/** The reply's repeated field; proto3 JSON leaves an empty one out. */
function listField(data: Uint8Array | string, field: string): readonly unknown[] {
  const message = parseJsonObject(data, MAX_RPC_REPLY_BYTES);
  // lnd answers a failed call with an error object: never read it as an empty node.
  const error =
    lndError(message) ?? (isJsonObject(message.result) ? lndError(message.result) : undefined);
  if (error !== undefined) throw new DecodeError('invalid_shape', `lnd error reply: ${error}`);
  const reply = unwrapResult(message);
  const list = reply[field];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) {
    throw new DecodeError('invalid_shape', `${field}: expected a list, got ${jsonKind(list)}`);
  }
  return list;
}

/** The message of an lnd REST error (`{"error": {...}}` or `{"code", "message"}`), if it is one. */
function lndError(reply: Record<string, unknown>): string | undefined {
  const inner = isJsonObject(reply.error) ? reply.error : reply;
  if (
    typeof inner.message === 'string' &&
    (typeof inner.code === 'number' || typeof inner.code === 'string')
  ) {
    return inner.message;
  }
  if (typeof reply.error === 'string') return reply.error;
  return undefined;
}

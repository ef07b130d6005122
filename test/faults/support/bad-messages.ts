import { REJECT_REASONS, type RejectReason } from '../../../src/lnd/reject-reason.js';
import {
  bytes,
  closedChannelJson,
  openChannelJson,
  peerEventJson,
} from '../../support/lnd-json.js';
import { scriptChannelPoint, scriptPubkey } from './flap-script.js';

/** A message for `<prefix>.<node>.<subject>`. */
export interface RawMessage {
  readonly subject: 'channel_events' | 'peer_events';
  readonly data: Uint8Array;
}

/** A message the exporter must reject, and the reason it must count it under. */
export interface BadMessage extends RawMessage {
  readonly reason: RejectReason;
}

const PEER = scriptPubkey(0xbad);
/** The channel the duplicate opens repeat: its first open is a good message. */
export const DUPLICATED_OPEN: RawMessage = {
  subject: 'channel_events',
  data: bytes(openChannelJson(PEER, scriptChannelPoint(0xbad))),
};

/**
 * The n-th bad message of a reason, varied a little with n (the exporter must
 * not depend on seeing one fixed bad shape).
 */
export function badMessage(reason: RejectReason, n: number): BadMessage {
  const peer = (json: unknown): BadMessage => ({
    subject: 'peer_events',
    data: bytes(json),
    reason,
  });
  const channel = (json: unknown): BadMessage => ({
    subject: 'channel_events',
    data: bytes(json),
    reason,
  });
  const raw = (subject: RawMessage['subject'], data: Uint8Array): BadMessage => ({
    subject,
    data,
    reason,
  });
  const pubkey = scriptPubkey(0x1000 + (n % 50));
  switch (reason) {
    case 'too_large':
      // Just over 64 KiB, valid JSON otherwise.
      return peer({ ...peerEventJson(pubkey, true), padding: 'x'.repeat(65_536 + (n % 100)) });
    case 'invalid_json':
      return n % 2 === 0
        ? raw('peer_events', bytes(`{"pub_key":"${pubkey}","type":"PEER_ON`))
        : raw('channel_events', Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d)); // not UTF-8
    case 'invalid_shape':
      return n % 2 === 0
        ? peer([n, pubkey])
        : channel({ type: 'OPEN_CHANNEL', open_channel: null });
    case 'unknown_type':
      return n % 2 === 0
        ? peer({ pub_key: pubkey, type: 'PEER_ASLEEP' })
        : channel({ type: 'CHANNEL_TELEPORTED', open_channel: {} });
    case 'invalid_pubkey':
      return n % 2 === 0
        ? peer({ pub_key: `04${pubkey.slice(2)}`, type: 'PEER_ONLINE' })
        : channel(openChannelJson(pubkey.slice(0, 60), scriptChannelPoint(n)));
    case 'invalid_channel_point':
      return channel(openChannelJson(pubkey, n % 2 === 0 ? `nothex:${n}` : `${'c'.repeat(64)}:-1`));
    case 'invalid_timestamp':
      return peer({
        ...peerEventJson(pubkey, true),
        timestamp: n % 2 === 0 ? 'yesterday' : '2024-02-30T00:00:00Z',
      });
    case 'future_timestamp':
      return peer(peerEventJson(pubkey, n % 2 === 0, Date.now() + 3_600_000 + n));
    case 'duplicate_channel':
      return { ...DUPLICATED_OPEN, reason };
    case 'unknown_channel':
      return channel(closedChannelJson(pubkey, scriptChannelPoint(0x2000 + n)));
    case 'node_not_allowed':
    case 'too_many_nodes':
      throw new Error(`${reason} is about the node a message names, not about the message`);
  }
}

/** Reasons of the node a message is published for (its subject), not of the message itself. */
const NODE_REASONS: ReadonlySet<RejectReason> = new Set(['node_not_allowed', 'too_many_nodes']);

/** `perReason` bad messages of every reason, interleaved (reasons round-robin). */
export function badMessages(perReason: number): BadMessage[] {
  const out: BadMessage[] = [];
  for (let n = 0; n < perReason; n++) {
    for (const reason of REJECT_REASONS) {
      if (!NODE_REASONS.has(reason)) out.push(badMessage(reason, n));
    }
  }
  return out;
}

/** Both lists merged at random, each keeping its own order. */
export function interleave<A, B>(
  a: readonly A[],
  b: readonly B[],
  random: () => number,
): (A | B)[] {
  const out: (A | B)[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const takeA =
      j >= b.length || (i < a.length && random() < (a.length - i) / (a.length - i + b.length - j));
    if (takeA) out.push(a[i++] as A);
    else out.push(b[j++] as B);
  }
  return out;
}

import { canonicalChannelPoint } from '../lnd/channel-point.js';
import { toLowerHex } from '../lnd/hex.js';
import { isPubkeyHex } from '../lnd/pubkey.js';
import type { ChannelEventStore } from '../store/channel-event-store.js';
import type { NodeStores } from '../store/node-stores.js';
import { badUserInput } from './errors.js';

/** How many node names an error message lists before it stops. */
const NAMES_SHOWN = 10;

/**
 * A pubkey argument in the form the store keys peers by (lower-case hex, as
 * ingestion stores it); BAD_USER_INPUT when it is not a compressed public key.
 */
export function parsePubkey(value: string, argument = 'pubkey'): string {
  if (!isPubkeyHex(value)) {
    throw badUserInput(
      `${argument} must be a 33-byte compressed public key: 66 hex characters starting with 02 or 03`,
    );
  }
  return toLowerHex(value);
}

/**
 * A channel point argument in the store's canonical form (lower-case txid,
 * index without leading zeros); BAD_USER_INPUT when malformed.
 */
export function parseChannelPoint(value: string): string {
  const canonical = canonicalChannelPoint(value);
  if (canonical === undefined) {
    throw badUserInput(
      'channelPoint must be <funding txid: 64 hex characters>:<output index>, as lnd prints it',
    );
  }
  return canonical;
}

/** The page size asked for, capped at the maximum; BAD_USER_INPUT when negative. */
export function pageSize(first: number | null | undefined, fallback: number, max: number): number {
  const asked = first ?? fallback;
  if (asked < 0) throw badUserInput(`first must not be negative, got ${asked}`);
  return Math.min(asked, max);
}

/**
 * A window's bounds, each optional: BAD_USER_INPUT when both are given and
 * `to` is before `from` (field names the field in the message).
 */
export function checkWindow(
  field: string,
  from: number | null | undefined,
  to: number | null | undefined,
): void {
  if (from === null || from === undefined || to === null || to === undefined) return;
  if (to < from) {
    throw badUserInput(
      `${field}: to (${new Date(to).toISOString()}) is before from (${new Date(from).toISOString()})`,
    );
  }
}

/** The node a query is about, and its store when the node is tracked. */
export interface NodeChoice {
  readonly node: string;
  readonly store: ChannelEventStore | undefined;
}

/**
 * The node named by the argument, or the only tracked node when it is
 * omitted; BAD_USER_INPUT when it is omitted and there is not exactly one.
 */
export function chooseNode(stores: NodeStores, node: string | null | undefined): NodeChoice {
  if (node !== null && node !== undefined) return { node, store: stores.get(node) };
  if (stores.size === 1) {
    for (const store of stores.values()) return { node: store.node, store };
  }
  if (stores.size === 0) throw badUserInput('no lnd node is tracked yet: pass node');
  const names = [...stores.nodes()].sort().slice(0, NAMES_SHOWN).join(', ');
  const more = stores.size > NAMES_SHOWN ? ', ...' : '';
  throw badUserInput(`${stores.size} lnd nodes are tracked (${names}${more}): pass node`);
}

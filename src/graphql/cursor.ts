import { CLOSE_CANDIDATE_ORDERS, type CloseCandidateOrder } from './close-recommendations.js';
import { badUserInput } from './errors.js';
import {
  CHANNEL_ORDERS,
  PEER_ORDERS,
  type ChannelOrder,
  type OrderPosition,
  type PeerOrder,
} from './ordering.js';

/** Where a page ended, in the order it was listed in, and the instant it was ranked at. */
export interface ChannelCursor extends OrderPosition {
  readonly order: ChannelOrder;
  /**
   * The instant (ms) the listing's first page ranked channels at. Ratios move
   * with time (lifetimes grow), so every later page ranks at the same instant:
   * a channel cannot drift past the cursor and be listed twice or never. Only
   * the ranking: the figures a page returns are those of its own query's now.
   */
  readonly at: number;
}

/** ChannelCursor for `peers`: the position of the page's last peer. */
export interface PeerCursor {
  readonly order: PeerOrder;
  readonly rank: number;
  readonly node: string;
  readonly pubkey: string;
  /** As ChannelCursor.at. */
  readonly at: number;
}

/** Any listing's cursor: key is what breaks ties within a node (channel point, pubkey). */
interface ListingCursor<O extends string> {
  readonly order: O;
  readonly rank: number;
  readonly node: string;
  readonly key: string;
  readonly at: number;
}

/** How one listing's cursors are written, and told from another listing's. */
interface CursorFormat<O extends string> {
  /** The Query field that returns them, for messages. */
  readonly field: string;
  readonly orders: readonly O[];
  /**
   * A first element of the JSON array naming the listing. Channel cursors have
   * none (they came first, and those already given out stay valid); their
   * first element is an order, which no tag is.
   */
  readonly tag: string | undefined;
}

const CHANNEL_CURSORS: CursorFormat<ChannelOrder> = {
  field: 'channels',
  orders: CHANNEL_ORDERS,
  tag: undefined,
};

const PEER_CURSORS: CursorFormat<PeerOrder> = { field: 'peers', orders: PEER_ORDERS, tag: 'peers' };

const CLOSE_CANDIDATE_CURSORS: CursorFormat<CloseCandidateOrder> = {
  field: 'closeRecommendations',
  orders: CLOSE_CANDIDATE_ORDERS,
  tag: 'closeRecommendations',
};

type CursorJson<O extends string> = [
  order: O,
  rank: number | null,
  node: string,
  key: string,
  at: number,
];

/**
 * An opaque cursor: base64url of the order, the position (rank, node, key)
 * of the last item of a page and the listing's instant, after the listing's
 * tag if it has one. Keyset pagination: the next page starts after that
 * position.
 */
function encodeListingCursor<O extends string>(
  format: CursorFormat<O>,
  cursor: ListingCursor<O>,
): string {
  // JSON has no Infinity: a missing value's rank travels as null.
  const rank = Number.isFinite(cursor.rank) ? cursor.rank : null;
  const json: CursorJson<O> = [cursor.order, rank, cursor.node, cursor.key, cursor.at];
  const tagged = format.tag === undefined ? json : [format.tag, ...json];
  return Buffer.from(JSON.stringify(tagged)).toString('base64url');
}

/** The cursor's array without the format's tag; undefined when it is not the format's. */
function untagged<O extends string>(
  format: CursorFormat<O>,
  value: unknown,
): unknown[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const items = value as unknown[];
  if (format.tag === undefined) return items;
  return items[0] === format.tag ? items.slice(1) : undefined;
}

function isCursorJson<O extends string>(
  format: CursorFormat<O>,
  value: unknown[] | undefined,
): value is CursorJson<O> {
  if (value?.length !== 5) return false;
  const [order, rank, node, key, at] = value;
  return (
    format.orders.includes(order as O) &&
    (rank === null || typeof rank === 'number') &&
    typeof node === 'string' &&
    typeof key === 'string' &&
    typeof at === 'number' &&
    Number.isFinite(at)
  );
}

/** An instant for a message: RFC 3339 when it is a date, the number otherwise. */
function shownInstant(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/**
 * Decodes an `after` argument for the given order; BAD_USER_INPUT when it is
 * not one of the listing's, and when its instant is not one a first page can
 * have been ranked at: before the epoch, or later than now (a forged cursor,
 * or one of a clock ahead of ours: it would rank the listing at a time that
 * has not come).
 */
function decodeListingCursor<O extends string>(
  format: CursorFormat<O>,
  text: string,
  order: O,
  now: number,
): ListingCursor<O> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const items = untagged(format, value);
  const notOurs = `after is not a cursor returned by ${format.field}`;
  if (!isCursorJson(format, items)) throw badUserInput(notOurs);
  const [cursorOrder, rank, node, key, at] = items;
  const cursor: ListingCursor<O> = {
    order: cursorOrder,
    rank: rank ?? Number.POSITIVE_INFINITY,
    node,
    key,
    at,
  };
  // Base64 decoding skips stray characters: only the exact encoding is ours.
  if (encodeListingCursor(format, cursor) !== text) throw badUserInput(notOurs);
  if (cursorOrder !== order) {
    throw badUserInput(`after is a cursor of orderBy ${cursorOrder}, not ${order}`);
  }
  if (at < 0 || at > now) {
    throw badUserInput(
      `after is a cursor of a listing at ${shownInstant(at)}, which is not between the epoch and now (${shownInstant(now)})`,
    );
  }
  return cursor;
}

/** The cursor of a `channels` page (see encodeListingCursor). */
export function encodeCursor(cursor: ChannelCursor): string {
  const { order, rank, node, channelPoint, at } = cursor;
  return encodeListingCursor(CHANNEL_CURSORS, { order, rank, node, key: channelPoint, at });
}

/** Decodes a `channels` cursor (see decodeListingCursor). */
export function decodeCursor(text: string, order: ChannelOrder, now: number): ChannelCursor {
  const { rank, node, key, at } = decodeListingCursor(CHANNEL_CURSORS, text, order, now);
  return { order, rank, node, channelPoint: key, at };
}

/** The cursor of a `peers` page (see encodeListingCursor). */
export function encodePeerCursor(cursor: PeerCursor): string {
  const { order, rank, node, pubkey, at } = cursor;
  return encodeListingCursor(PEER_CURSORS, { order, rank, node, key: pubkey, at });
}

/** Decodes a `peers` cursor (see decodeListingCursor). */
export function decodePeerCursor(text: string, order: PeerOrder, now: number): PeerCursor {
  const { rank, node, key, at } = decodeListingCursor(PEER_CURSORS, text, order, now);
  return { order, rank, node, pubkey: key, at };
}

/** ChannelCursor for `closeRecommendations`: the position of the page's last candidate. */
export interface CloseCandidateCursor {
  readonly order: CloseCandidateOrder;
  readonly rank: number;
  readonly node: string;
  readonly channelPoint: string;
  /** The instant the listing's analysis is computed at, by every page (see ChannelCursor.at). */
  readonly at: number;
}

/** The cursor of a `closeRecommendations` page (see encodeListingCursor). */
export function encodeCloseCandidateCursor(cursor: CloseCandidateCursor): string {
  const { order, rank, node, channelPoint, at } = cursor;
  return encodeListingCursor(CLOSE_CANDIDATE_CURSORS, { order, rank, node, key: channelPoint, at });
}

/** Decodes a `closeRecommendations` cursor (see decodeListingCursor). */
export function decodeCloseCandidateCursor(
  text: string,
  order: CloseCandidateOrder,
  now: number,
): CloseCandidateCursor {
  const { rank, node, key, at } = decodeListingCursor(CLOSE_CANDIDATE_CURSORS, text, order, now);
  return { order, rank, node, channelPoint: key, at };
}

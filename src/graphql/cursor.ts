import { badUserInput } from './errors.js';
import { CHANNEL_ORDERS, type ChannelOrder, type OrderPosition } from './ordering.js';

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

type CursorJson = [
  order: ChannelOrder,
  rank: number | null,
  node: string,
  channelPoint: string,
  at: number,
];

/**
 * An opaque cursor: base64url of the order, the position (rank, node,
 * channel point) of the last channel of a page and the listing's instant.
 * Keyset pagination: the next page starts after that position.
 */
export function encodeCursor(cursor: ChannelCursor): string {
  // JSON has no Infinity: a missing ratio's rank travels as null.
  const rank = Number.isFinite(cursor.rank) ? cursor.rank : null;
  const json: CursorJson = [cursor.order, rank, cursor.node, cursor.channelPoint, cursor.at];
  return Buffer.from(JSON.stringify(json)).toString('base64url');
}

function isCursorJson(value: unknown): value is CursorJson {
  if (!Array.isArray(value) || value.length !== 5) return false;
  const [order, rank, node, channelPoint, at] = value as unknown[];
  return (
    CHANNEL_ORDERS.includes(order as ChannelOrder) &&
    (rank === null || typeof rank === 'number') &&
    typeof node === 'string' &&
    typeof channelPoint === 'string' &&
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
 * not one of ours, and when its instant is not one a first page can have been
 * ranked at: before the epoch, or later than now (a forged cursor, or one of a
 * clock ahead of ours: it would rank the listing at a time that has not come).
 */
export function decodeCursor(text: string, order: ChannelOrder, now: number): ChannelCursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!isCursorJson(value)) throw badUserInput('after is not a cursor returned by channels');
  const [cursorOrder, rank, node, channelPoint, at] = value;
  const cursor: ChannelCursor = {
    order: cursorOrder,
    rank: rank ?? Number.POSITIVE_INFINITY,
    node,
    channelPoint,
    at,
  };
  // Base64 decoding skips stray characters: only the exact encoding is ours.
  if (encodeCursor(cursor) !== text)
    throw badUserInput('after is not a cursor returned by channels');
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

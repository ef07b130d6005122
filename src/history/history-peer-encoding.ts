import type { LogEvents, LogHeader } from '../store/online-log.js';
import type { ChannelImage, MonitorImage, PeerImage } from '../store/store-image.js';
import { decodeEvents, encodeEvents } from './history-event-encoding.js';
import {
  firstSegment,
  HistoryCorruptError,
  sealedSegments,
  SEGMENT_EVENTS,
  type StoredMonitor,
  type StoredPeer,
} from './history-format.js';
import { int, num, record, str } from './history-validation.js';

/** A peer as stored, with its tail events (those after its sealed segments). */
export function encodePeer(
  image: PeerImage,
  tail: LogEvents | undefined,
  through: number | undefined,
): StoredPeer {
  const m = image.monitor;
  return {
    k: image.pubkey,
    c: image.connectivity === undefined ? null : image.connectivity ? 1 : 0,
    t: image.latest,
    ...(through === undefined ? {} : { q: through }),
    ...(m === undefined ? {} : { m: encodeMonitor(m, tail) }),
  };
}

function encodeMonitor(m: MonitorImage, tail: LogEvents | undefined): StoredMonitor {
  const log = m.log;
  return {
    f: m.flapCount,
    lf: m.lastFlap ?? null,
    o: m.online ? 1 : 0,
    r: m.recordMerged ? 1 : 0,
    ca: m.createdAt,
    ...(m.unobservedAtCreation ? { ua: m.unobservedAtCreation } : {}),
    ch: m.channels.map((c) =>
      c.unobservedAtOpening
        ? [c.channelPoint, c.openedAt, c.atOpening ?? null, c.unobservedAtOpening]
        : [c.channelPoint, c.openedAt, c.atOpening ?? null],
    ),
    lg: {
      e: log.epoch,
      o: log.offset,
      n: log.end,
      b: log.cumBase,
      s: log.staged === undefined ? null : [log.staged.time, log.staged.online ? 1 : 0],
      sg: Math.max(sealedSegments(log.end), firstSegment(log.offset)),
      tl: tail === undefined ? '' : encodeEvents(tail),
    },
  };
}

/** A decoded peer: its image, where its log's sealed segments are, and its tail. */
export interface DecodedPeer {
  readonly image: PeerImage;
  readonly through: number | undefined;
  /** Segment numbers [first, end) to read, with the log's epoch; undefined without a monitor. */
  readonly segments:
    { readonly epoch: number; readonly first: number; readonly end: number } | undefined;
  readonly tail: LogEvents | undefined;
}

export function decodePeer(value: unknown, what: string): DecodedPeer {
  const p = record(value, what);
  const pubkey = str(p.k, `${what}.k`);
  const c = p.c;
  if (c !== 0 && c !== 1 && c !== null) throw new HistoryCorruptError(`${what}: bad connectivity`);
  const image: { -readonly [K in keyof PeerImage]: PeerImage[K] } = {
    pubkey,
    connectivity: c === null ? undefined : c === 1,
    latest: num(p.t, `${what}.t`),
    monitor: undefined,
  };
  const through = p.q === undefined ? undefined : num(p.q, `${what}.q`);
  if (p.m === undefined) return { image, through, segments: undefined, tail: undefined };
  const m = record(p.m, `${what}.m`);
  const lg = record(m.lg, `${what}.m.lg`);
  const staged = lg.s;
  let stagedEvent: LogHeader['staged'];
  if (staged === null) stagedEvent = undefined;
  else if (Array.isArray(staged) && staged.length === 2 && (staged[1] === 0 || staged[1] === 1)) {
    stagedEvent = { time: num(staged[0], `${what}.staged`), online: staged[1] === 1 };
  } else throw new HistoryCorruptError(`${what}: bad staged event`);
  const header: LogHeader = {
    epoch: int(lg.e, `${what}.lg.e`),
    offset: int(lg.o, `${what}.lg.o`),
    end: int(lg.n, `${what}.lg.n`),
    cumBase: num(lg.b, `${what}.lg.b`),
    staged: stagedEvent,
  };
  if (header.end < header.offset)
    throw new HistoryCorruptError(`${what}: log ends before its offset`);
  if (!Array.isArray(m.ch)) throw new HistoryCorruptError(`${what}: channels are not a list`);
  const channels: ChannelImage[] = m.ch.map((entry: unknown, i) => {
    if (!Array.isArray(entry) || (entry.length !== 3 && entry.length !== 4)) {
      throw new HistoryCorruptError(`${what}: channel ${i} is not [point, openedAt, atOpening]`);
    }
    return {
      channelPoint: str(entry[0], `${what}.ch[${i}]`),
      openedAt: num(entry[1], `${what}.ch[${i}]`),
      atOpening: entry[2] === null ? undefined : num(entry[2], `${what}.ch[${i}]`),
      unobservedAtOpening: entry.length === 4 ? num(entry[3], `${what}.ch[${i}]`) : 0,
    };
  });
  const o = m.o;
  const r = m.r;
  if ((o !== 0 && o !== 1) || (r !== 0 && r !== 1)) {
    throw new HistoryCorruptError(`${what}: bad monitor flags`);
  }
  image.monitor = {
    flapCount: int(m.f, `${what}.m.f`),
    lastFlap: m.lf === null ? undefined : num(m.lf, `${what}.m.lf`),
    online: o === 1,
    recordMerged: r === 1,
    createdAt: num(m.ca, `${what}.m.ca`),
    unobservedAtCreation: m.ua === undefined ? 0 : num(m.ua, `${what}.m.ua`),
    channels,
    log: header,
  };
  const sg = int(lg.sg, `${what}.lg.sg`);
  const first = firstSegment(header.offset);
  const tail = decodeEvents(lg.tl, `${what} tail`);
  const tailFrom = Math.max(header.offset, sg * SEGMENT_EVENTS);
  if (sg < first || tailFrom + tail.times.length !== header.end) {
    throw new HistoryCorruptError(`${what}: log segments and tail do not add up`);
  }
  return { image, through, segments: { epoch: header.epoch, first, end: sg }, tail };
}

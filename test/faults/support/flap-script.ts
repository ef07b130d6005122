import { bytes, openChannelJson, peerEventJson } from '../../support/lnd-json.js';

export const SECOND = 1_000;
export const HOUR = 3_600 * SECOND;

/** One scripted lnd message with its place in the script. */
export interface ScriptedEvent {
  /** Position in the script, from 0. */
  readonly index: number;
  readonly subject: 'channel_events' | 'peer_events';
  readonly pubkey: string;
  /** Event time (the payload's `timestamp`). */
  readonly time: number;
  readonly payload: Uint8Array;
  /** JetStream message id (Nats-Msg-Id): a retried publish of it is stored once. */
  readonly msgId: string;
}

/**
 * A known sequence of channel opens and peer events for one node, with the
 * publisher's own tally of the flap counts it must produce (SPEC 2): the first
 * channel with a peer creates its monitor (one flap), every later event of a
 * monitored peer is one more flap. Event times are the payload timestamps,
 * `stepMs` apart: more than the first rate-limit tier (1 s), and a script
 * shorter than 8 h never triggers the cooldown.
 */
export class FlapScript {
  readonly events: ScriptedEvent[] = [];
  /** Peer -> flap count once every event so far is applied. */
  readonly tally = new Map<string, number>();
  private next: number;

  constructor(
    readonly node: string,
    /** Time of the first event; must be in the past by at least the script's length. */
    start: number,
    readonly runId: string,
    readonly stepMs = 2 * SECOND,
  ) {
    this.next = start;
  }

  /** The time of the next event. */
  get nextTime(): number {
    return this.next;
  }

  /** A channel opens with the peer (its monitor, and that flap, if it is the first). */
  open(pubkey: string, channelPoint: string): ScriptedEvent {
    // A monitor is created once and kept (SPEC 2): only the first channel ever adds a flap.
    if (!this.tally.has(pubkey)) this.tally.set(pubkey, 1);
    return this.add('channel_events', pubkey, (time) =>
      openChannelJson(pubkey, channelPoint, time),
    );
  }

  /** The peer connects or disconnects: one flap once it is monitored. */
  peer(pubkey: string, online: boolean): ScriptedEvent {
    const count = this.tally.get(pubkey);
    if (count !== undefined) this.tally.set(pubkey, count + 1);
    return this.add('peer_events', pubkey, (time) => peerEventJson(pubkey, online, time));
  }

  /** `count` rounds over the peers, each peer alternating online/offline. */
  peerRounds(pubkeys: readonly string[], rounds: number): ScriptedEvent[] {
    const out: ScriptedEvent[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const pubkey of pubkeys) out.push(this.peer(pubkey, round % 2 === 0));
    }
    return out;
  }

  private add(
    subject: ScriptedEvent['subject'],
    pubkey: string,
    json: (time: number) => unknown,
  ): ScriptedEvent {
    const index = this.events.length;
    const time = this.next;
    this.next += this.stepMs;
    const event: ScriptedEvent = {
      index,
      subject,
      pubkey,
      time,
      payload: bytes(json(time)),
      msgId: `${this.runId}-${this.node}-${index}`,
    };
    this.events.push(event);
    return event;
  }
}

/** A peer pubkey of the script: 02 followed by 32 bytes. */
export function scriptPubkey(n: number): string {
  return '02' + n.toString(16).padStart(64, 'a');
}

/** A channel point of the script. */
export function scriptChannelPoint(n: number, index = 0): string {
  return `${n.toString(16).padStart(64, 'b')}:${index}`;
}

/** Peer -> number of peer events among `events` (each one flap for a monitored peer). */
export function peerEventsByPeer(events: readonly ScriptedEvent[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of events) {
    if (e.subject === 'peer_events') out.set(e.pubkey, (out.get(e.pubkey) ?? 0) + 1);
  }
  return out;
}

/** Peer -> count, in pubkey order: maps that compare equal whatever order they were filled in. */
export function sorted(map: ReadonlyMap<string, number>): Map<string, number> {
  return new Map([...map].sort(([a], [b]) => a.localeCompare(b)));
}

/** Whether `a` (undefined while it cannot be read) holds exactly the counts of `b`. */
export function sameCounts(
  a: ReadonlyMap<string, number> | undefined,
  b: ReadonlyMap<string, number>,
): boolean {
  if (a === undefined || a.size !== b.size) return false;
  for (const [k, v] of b) if (a.get(k) !== v) return false;
  return true;
}

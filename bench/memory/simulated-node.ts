/**
 * The simulated node of the memory benchmark, shared with the history
 * benchmark: 20,000 peers in three reliability classes, 100,000 channels over
 * them and 30 days of peer history, all applied through the store's public
 * API. Every function draws from the random source it is given, in the order
 * bench/memory/store-memory.ts always drew: the same seed builds the same store.
 */
import { systemScheduler, type Scheduler, type SleepOptions, type Timer } from '../../src/clock.js';
import type { ChannelEventStore } from '../../src/store/channel-event-store.js';

export const PEERS = 20_000;
export const CHANNELS = 100_000;
export const DAYS = 30;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const T0 = Date.parse('2024-01-01T00:00:00Z');

/**
 * Reliability classes: mean time online and offline between flaps. Most peers
 * are well connected; a tail restarts or loses connectivity several times a day.
 */
export const CLASSES = [
  { name: 'reliable', share: 0.5, onlineMs: 24 * HOUR, offlineMs: 15 * MINUTE },
  { name: 'average', share: 0.35, onlineMs: 4 * HOUR, offlineMs: 20 * MINUTE },
  { name: 'flaky', share: 0.15, onlineMs: HOUR, offlineMs: 5 * MINUTE },
] as const;

/** Simulated time, with the system's timers (a paced snapshot's breaks take real time). */
export class BenchClock implements Scheduler {
  constructor(public time: number) {}
  now(): number {
    return this.time;
  }
  after(ms: number, fn: () => void): Timer {
    return systemScheduler.after(ms, fn);
  }
  every(ms: number, fn: () => void): Timer {
    return systemScheduler.every(ms, fn);
  }
  sleep(ms: number, options?: SleepOptions): Promise<void> {
    return systemScheduler.sleep(ms, options);
  }
}

export function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** A flat string, as JSON.parse hands ingestion its pubkeys and channel points (no rope). */
export function flat(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

/** An exponentially distributed duration of the given mean, drawn from random. */
export function exponentialOf(random: () => number): (mean: number) => number {
  return (mean) => -mean * Math.log(1 - random());
}

export interface SimPeer {
  readonly pubkey: string;
  readonly onlineMs: number;
  readonly offlineMs: number;
  online: boolean;
  /** When the peer next changes state. */
  next: number;
}

/** The peers, each in a reliability class, online (90%) or not at T0; and the count per class. */
export function simulatedPeers(random: () => number): {
  peers: SimPeer[];
  classCounts: Map<string, number>;
} {
  const exponential = exponentialOf(random);
  const peers: SimPeer[] = [];
  const classCounts = new Map<string, number>();
  for (let p = 0; p < PEERS; p++) {
    const u = random();
    let acc = 0;
    let cls: (typeof CLASSES)[number] = CLASSES[0];
    for (const c of CLASSES) {
      acc += c.share;
      cls = c;
      if (u < acc) break;
    }
    classCounts.set(cls.name, (classCounts.get(cls.name) ?? 0) + 1);
    const pubkey = flat((p % 2 === 0 ? '02' : '03') + hex(p, 8) + 'ab'.repeat(28));
    const online = random() < 0.9;
    peers.push({
      pubkey,
      onlineMs: cls.onlineMs,
      offlineMs: cls.offlineMs,
      online,
      next: T0 + exponential(online ? cls.onlineMs : cls.offlineMs),
    });
  }
  return { peers, classCounts };
}

/**
 * The peers' connections first (as lnd reports them), then the opens, spread
 * over the peers (1 to 9 each, 5 on average) in the first minutes. Returns the
 * channels opened.
 */
export function openChannels(
  store: ChannelEventStore,
  peers: readonly SimPeer[],
  random: () => number,
): number {
  for (const peer of peers) store.peerEvent(peer.pubkey, peer.online, T0);
  let opened = 0;
  for (let c = 0; c < CHANNELS; c++) {
    const peer = peers[c < PEERS ? c : Math.floor(random() * PEERS)];
    if (peer === undefined) continue;
    const txid = hex(c, 8) + 'cd'.repeat(28);
    store.openChannel(peer.pubkey, flat(`${txid}:${c % 3}`), T0 + 1 + (c % 600) * 100);
    opened++;
  }
  return opened;
}

/**
 * History: day by day, every peer's flaps of that day in time order (per peer
 * the store only needs order; interleaving by day mixes the logs' growth).
 * Returns the peer events applied.
 */
export function playHistory(
  store: ChannelEventStore,
  peers: readonly SimPeer[],
  random: () => number,
): number {
  const exponential = exponentialOf(random);
  let received = 0;
  for (let day = 0; day < DAYS; day++) {
    const end = T0 + (day + 1) * DAY;
    for (const peer of peers) {
      while (peer.next < end) {
        peer.online = !peer.online;
        store.peerEvent(peer.pubkey, peer.online, peer.next);
        received++;
        peer.next += Math.max(1, exponential(peer.online ? peer.onlineMs : peer.offlineMs));
      }
    }
  }
  return received;
}

import { CHANNEL_EVENT_FIELD } from '../../src/lnd/channel-event-fields.js';
import type { ChannelEventType, PeerEventType } from '../../src/lnd/messages.js';
import { formatTimestamp } from '../../src/lnd/timestamp.js';
import { ActionQueue } from './action-queue.js';
import {
  lndChannel,
  lndChannelPoint,
  lndCloseSummary,
  lndPeer,
  lndPendingUpdate,
  shortChannelId,
  type ChannelFacts,
  type CloseType,
} from './lnd-json.js';
import { profileCounts, type PeerProfile } from './peer-profiles.js';
import { Rng, deriveSeed } from './rng.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** No online or offline spell is shorter: the link events of a flap fit inside it. */
const MIN_SPELL_MS = SECOND;
const MAX_LINK_DELAY_MS = 800;
/** The first channel with each peer stays long; the others come and go. */
const MEAN_CORE_CHANNEL_LIFETIME_MS = 96 * HOUR;
const MEAN_CHANNEL_LIFETIME_MS = 8 * HOUR;
const MIN_CHANNEL_LIFETIME_MS = HOUR;
const FUNDING_TIMEOUT_CHANCE = 0.03;
const BATCH_OPEN_CHANCE = 0.1;
const COOPERATIVE_CLOSE_CHANCE = 0.85;
const WRAPPED_CHANCE = 0.5;
/** A mainnet block: 2024-01-01T00:00:00Z was around height 823786, one block per 10 minutes. */
const REFERENCE_TIME = Date.UTC(2024, 0, 1);
const REFERENCE_HEIGHT = 823_786;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Where a message goes: `<prefix>.<node>.<subject>`. */
export type DemoSubject = 'channel_events' | 'peer_events';

/** One message of the simulated node, as lnd's REST API prints it. */
export interface DemoMessage {
  readonly node: string;
  readonly subject: DemoSubject;
  readonly type: ChannelEventType | PeerEventType;
  /** Event time, ms since the epoch (microsecond resolution); also the payload's `timestamp`. */
  readonly time: number;
  /** lnd's JSON, bare or wrapped as `{"result": …}`. */
  readonly payload: string;
}

export interface NodeSimulationOptions {
  /** The node's name: one subject token. */
  readonly node: string;
  readonly seed: number;
  /** Simulated time at which the node starts (ms since the epoch). */
  readonly start: number;
  /** Peers of the node (default 40). */
  readonly peers?: number;
  /** Open channels the node keeps, closing and reopening over time (default 80). */
  readonly channels?: number;
}

/** A simulated peer, as tests and benchmarks may inspect it. */
export interface SimulatedPeer {
  readonly pubkey: string;
  readonly profile: PeerProfile['name'];
  readonly online: boolean;
  /** Connectivity changes sent, the first connection included. */
  readonly flaps: number;
  readonly openChannels: number;
}

interface Peer {
  readonly pubkey: string;
  readonly profile: PeerProfile;
  readonly address: string;
  readonly inbound: boolean;
  readonly pingMicros: number;
  online: boolean;
  flaps: number;
  lastFlap: number | undefined;
  /** Online time up to lastToggle, for lnd's Channel.uptime. */
  onlineMs: number;
  lastToggle: number;
  readonly channels: Set<Channel>;
}

interface Channel extends ChannelFacts {
  readonly peer: Peer;
  chanId: string;
  readonly core: boolean;
  state: 'pending' | 'open' | 'closed' | 'timed-out';
  openedAt: number;
  /** The peer's onlineMs at opening: uptime is what it gained since. */
  onlineAtOpen: number;
}

type Action =
  | { readonly kind: 'toggle'; readonly peer: Peer }
  | { readonly kind: 'link'; readonly channel: Channel; readonly active: boolean }
  | { readonly kind: 'fund'; readonly peer?: Peer; readonly core?: boolean }
  | { readonly kind: 'confirm'; readonly channel: Channel }
  | { readonly kind: 'funding-timeout'; readonly channel: Channel }
  | { readonly kind: 'close'; readonly channel: Channel }
  | { readonly kind: 'resolve'; readonly channel: Channel };

/**
 * One simulated lnd node: peers with their own reliability connect and
 * disconnect, channels are funded, confirmed, closed and resolved, and every
 * change comes out as the messages lnd's SubscribeChannelEvents and
 * SubscribePeerEvents would send. Pure and deterministic: a seeded RNG and a
 * simulated clock, no I/O and no timers.
 *
 * The node starts with no channel and no connection (so that an exporter that
 * bootstraps from its RPC replies at the first message sees a consistent state),
 * connects to every peer within minutes and opens its channels within the
 * first hour.
 */
export class NodeSimulation {
  readonly node: string;
  private readonly rng: Rng;
  /** A separate stream for presentation (wrapping), so it cannot change the dynamics. */
  private readonly formatRng: Rng;
  private readonly queue = new ActionQueue<Action>();
  private readonly peerList: Peer[] = [];
  private readonly openChannels = new Map<string, Channel>();
  private outbox: DemoMessage[] = [];
  private now: number;
  private batch: { txid: string; nextIndex: number; confirmAt: number } | undefined;
  private opened = 0;
  private closed = 0;

  constructor(options: NodeSimulationOptions) {
    this.node = options.node;
    this.now = options.start;
    this.rng = new Rng(deriveSeed(options.seed, `${options.node}/dynamics`));
    this.formatRng = new Rng(deriveSeed(options.seed, `${options.node}/format`));
    this.createPeers(options.peers ?? 40);
    for (const peer of this.peerList) {
      this.queue.schedule(this.at(options.start + this.rng.between(SECOND, 3 * MINUTE)), {
        kind: 'toggle',
        peer,
      });
    }
    // One channel with every peer (so that every kind of peer is monitored), the rest at random.
    const channels = options.channels ?? 80;
    for (let i = 0; i < channels; i++) {
      this.queue.schedule(this.at(options.start + this.rng.between(3 * MINUTE, 45 * MINUTE)), {
        kind: 'fund',
        peer: this.peerList[i],
        core: i < this.peerList.length,
      });
    }
  }

  /** Simulated time reached. */
  get time(): number {
    return this.now;
  }

  /** Time of the next change; the node always has one. */
  nextTime(): number {
    return this.queue.peekTime();
  }

  /** Makes the next change and returns its messages (none, one or several, same time). */
  step(): DemoMessage[] {
    const next = this.queue.pop();
    if (next === undefined) return [];
    this.now = Math.max(this.now, next.time);
    this.run(next.action);
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  /** Every message up to and including `until`, in time order; the clock then reads `until`. */
  advanceTo(until: number): DemoMessage[] {
    const out: DemoMessage[] = [];
    while (this.nextTime() <= until) out.push(...this.step());
    this.now = Math.max(this.now, until);
    return out;
  }

  /** lnd's ListChannelsResponse JSON of the node's open channels, now. */
  listChannelsReply(): string {
    const channels = [...this.openChannels.values()].map((channel) =>
      lndChannel(
        channel,
        channel.peer.online,
        (this.now - channel.openedAt) / SECOND,
        (this.onlineMsAt(channel.peer, this.now) - channel.onlineAtOpen) / SECOND,
      ),
    );
    return JSON.stringify({ channels });
  }

  /** lnd's ListPeersResponse JSON of the peers connected now. */
  listPeersReply(): string {
    const peers = this.peerList
      .filter((peer) => peer.online)
      .map((peer) =>
        lndPeer({
          pubkey: peer.pubkey,
          address: peer.address,
          inbound: peer.inbound,
          flapCount: peer.flaps,
          lastFlapMs: peer.lastFlap,
          pingMicros: peer.pingMicros,
        }),
      );
    return JSON.stringify({ peers });
  }

  peers(): SimulatedPeer[] {
    return this.peerList.map((peer) => ({
      pubkey: peer.pubkey,
      profile: peer.profile.name,
      online: peer.online,
      flaps: peer.flaps,
      openChannels: peer.channels.size,
    }));
  }

  /** Channels opened (confirmed) and closed so far. */
  get counts(): { readonly opened: number; readonly closed: number; readonly open: number } {
    return { opened: this.opened, closed: this.closed, open: this.openChannels.size };
  }

  // ---- the changes ------------------------------------------------------------

  private run(action: Action): void {
    switch (action.kind) {
      case 'toggle':
        this.toggle(action.peer);
        return;
      case 'link':
        // The link comes up or goes down shortly after the connection does, if it still stands.
        if (action.channel.state === 'open' && action.channel.peer.online === action.active) {
          this.channelEvent(
            action.active ? 'ACTIVE_CHANNEL' : 'INACTIVE_CHANNEL',
            lndChannelPoint(action.channel),
          );
        }
        return;
      case 'fund':
        this.fund(action.peer, action.core ?? false);
        return;
      case 'confirm':
        this.confirm(action.channel);
        return;
      case 'funding-timeout':
        this.fundingTimeout(action.channel);
        return;
      case 'close':
        this.close(action.channel);
        return;
      case 'resolve':
        this.channelEvent('FULLY_RESOLVED_CHANNEL', lndChannelPoint(action.channel));
        return;
    }
  }

  private toggle(peer: Peer): void {
    if (peer.online) peer.onlineMs += this.now - peer.lastToggle;
    peer.lastToggle = this.now;
    peer.online = !peer.online;
    peer.flaps++;
    peer.lastFlap = this.now;
    this.emit('peer_events', peer.online ? 'PEER_ONLINE' : 'PEER_OFFLINE', {
      pub_key: peer.pubkey,
      type: peer.online ? 'PEER_ONLINE' : 'PEER_OFFLINE',
    });
    for (const channel of peer.channels) {
      this.schedule(this.rng.between(20, MAX_LINK_DELAY_MS), {
        kind: 'link',
        channel,
        active: peer.online,
      });
    }
    const mean = peer.online ? peer.profile.meanOnlineMs : peer.profile.meanOfflineMs;
    this.schedule(Math.max(MIN_SPELL_MS, this.rng.exponential(mean)), { kind: 'toggle', peer });
  }

  /**
   * Starts a channel with the given peer, else with a connected one; funding
   * needs the peer connected, so it is retried a little later when it is not.
   */
  private fund(chosen: Peer | undefined, core: boolean): void {
    if (chosen !== undefined && !chosen.online) {
      this.schedule(this.rng.between(SECOND, 5 * MINUTE), { kind: 'fund', peer: chosen, core });
      return;
    }
    const candidates = this.peerList.filter((peer) => peer.online);
    if (candidates.length === 0) {
      this.schedule(5 * MINUTE, { kind: 'fund' });
      return;
    }
    const peer = chosen ?? this.rng.weighted(candidates, (p) => p.profile.channelWeight);
    let txid: string;
    let outputIndex: number;
    let confirmAt: number;
    const batch = this.batch;
    if (batch !== undefined && batch.confirmAt > this.now && this.rng.chance(BATCH_OPEN_CHANCE)) {
      // A batch open: one more output of the same funding transaction.
      txid = batch.txid;
      outputIndex = batch.nextIndex++;
      confirmAt = batch.confirmAt;
    } else {
      txid = this.rng.hex(32);
      outputIndex = this.rng.int(0, 1);
      confirmAt = this.at(this.now + this.rng.between(10 * MINUTE, 60 * MINUTE));
      this.batch = { txid, nextIndex: outputIndex + 1, confirmAt };
    }
    const capacity = this.rng.pick([
      500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 16_777_215,
    ]);
    const initiator = this.rng.chance(0.7);
    const channel: Channel = {
      peer,
      remotePubkey: peer.pubkey,
      txid,
      outputIndex,
      channelPoint: `${txid}:${outputIndex}`,
      chanId: '0',
      capacity,
      localBalance: initiator
        ? Math.floor(capacity * this.rng.between(0.2, 0.95))
        : Math.floor(capacity * this.rng.between(0, 0.5)),
      initiator,
      private: this.rng.chance(0.1),
      core,
      state: 'pending',
      openedAt: 0,
      onlineAtOpen: 0,
    };
    this.channelEvent('PENDING_OPEN_CHANNEL', lndPendingUpdate(channel));
    if (outputIndex > 1 || !this.rng.chance(FUNDING_TIMEOUT_CHANCE)) {
      this.queue.schedule(confirmAt, { kind: 'confirm', channel });
    } else {
      this.schedule(this.rng.between(HOUR, 3 * HOUR), { kind: 'funding-timeout', channel });
    }
  }

  private confirm(channel: Channel): void {
    if (channel.state !== 'pending') return;
    const { peer } = channel;
    channel.state = 'open';
    channel.openedAt = this.now;
    channel.onlineAtOpen = this.onlineMsAt(peer, this.now);
    // Funding confirmed with 3 confirmations: its block is 3 back.
    channel.chanId = shortChannelId(this.height() - 2, this.rng.int(1, 3000), channel.outputIndex);
    peer.channels.add(channel);
    this.openChannels.set(channel.channelPoint, channel);
    this.opened++;
    this.channelEvent('OPEN_CHANNEL', lndChannel(channel, peer.online, 0, 0));
    if (peer.online) {
      this.schedule(this.rng.between(20, MAX_LINK_DELAY_MS), {
        kind: 'link',
        channel,
        active: true,
      });
    }
    const lifetime = Math.max(
      MIN_CHANNEL_LIFETIME_MS,
      this.rng.exponential(channel.core ? MEAN_CORE_CHANNEL_LIFETIME_MS : MEAN_CHANNEL_LIFETIME_MS),
    );
    this.schedule(lifetime, { kind: 'close', channel });
  }

  private fundingTimeout(channel: Channel): void {
    channel.state = 'timed-out';
    this.channelEvent('CHANNEL_FUNDING_TIMEOUT', lndChannelPoint(channel));
    // A core channel is tried again with the same peer.
    this.schedule(this.rng.between(5 * MINUTE, 2 * HOUR), {
      kind: 'fund',
      peer: channel.core ? channel.peer : undefined,
      core: channel.core,
    });
  }

  private close(channel: Channel): void {
    const { peer } = channel;
    // Without the peer only a force close is possible.
    const closeType: CloseType = !peer.online
      ? 'LOCAL_FORCE_CLOSE'
      : this.rng.chance(COOPERATIVE_CLOSE_CHANCE)
        ? 'COOPERATIVE_CLOSE'
        : 'REMOTE_FORCE_CLOSE';
    channel.state = 'closed';
    peer.channels.delete(channel);
    this.openChannels.delete(channel.channelPoint);
    this.closed++;
    this.channelEvent(
      'CLOSED_CHANNEL',
      lndCloseSummary(channel, closeType, this.rng.hex(32), this.height()),
    );
    // A cooperative close is resolved with its confirmation, a force close after the CSV delay.
    const resolveAfter =
      closeType === 'COOPERATIVE_CLOSE'
        ? this.rng.between(100, 2 * SECOND)
        : this.rng.between(2 * HOUR, 24 * HOUR);
    this.schedule(resolveAfter, { kind: 'resolve', channel });
    this.scheduleReopen();
  }

  private scheduleReopen(): void {
    this.schedule(this.rng.between(5 * MINUTE, 2 * HOUR), { kind: 'fund' });
  }

  // ---- helpers ----------------------------------------------------------------

  private createPeers(total: number): void {
    for (const [profile, count] of profileCounts(total)) {
      for (let i = 0; i < count; i++) {
        this.peerList.push({
          pubkey: `0${this.rng.int(2, 3)}${this.rng.hex(32)}`,
          profile,
          address: this.address(),
          inbound: this.rng.chance(0.4),
          pingMicros: this.rng.int(20_000, 400_000),
          online: false,
          flaps: 0,
          lastFlap: undefined,
          onlineMs: 0,
          lastToggle: this.now,
          channels: new Set(),
        });
      }
    }
    // Mix the profiles so that order says nothing.
    for (let i = this.peerList.length - 1; i > 0; i--) {
      const j = this.rng.int(0, i);
      const a = this.peerList[i];
      const b = this.peerList[j];
      if (a !== undefined && b !== undefined) {
        this.peerList[i] = b;
        this.peerList[j] = a;
      }
    }
  }

  /** A Tor v3 or IPv4 address, as many nodes have either. */
  private address(): string {
    if (this.rng.chance(0.3)) {
      let host = '';
      for (let i = 0; i < 56; i++) host += BASE32.charAt(this.rng.int(0, 31));
      return `${host}.onion:9735`;
    }
    const octet = (): number => this.rng.int(1, 254);
    return `${octet()}.${octet()}.${octet()}.${octet()}:9735`;
  }

  private onlineMsAt(peer: Peer, time: number): number {
    return peer.onlineMs + (peer.online ? time - peer.lastToggle : 0);
  }

  private height(): number {
    return REFERENCE_HEIGHT + Math.floor((this.now - REFERENCE_TIME) / (10 * MINUTE));
  }

  /** Times are kept at microseconds, the resolution of the payload timestamps. */
  private at(time: number): number {
    return Math.round(time * 1000) / 1000;
  }

  private schedule(delay: number, action: Action): void {
    this.queue.schedule(this.at(this.now + delay), action);
  }

  private channelEvent(type: ChannelEventType, payload: object): void {
    this.emit('channel_events', type, { [CHANNEL_EVENT_FIELD[type]]: payload, type });
  }

  private emit(
    subject: DemoSubject,
    type: DemoMessage['type'],
    body: Record<string, unknown>,
  ): void {
    body.timestamp = formatTimestamp(this.now);
    const message = this.formatRng.chance(WRAPPED_CHANCE) ? { result: body } : body;
    this.outbox.push({
      node: this.node,
      subject,
      type,
      time: this.now,
      payload: JSON.stringify(message),
    });
  }
}

import type { Scheduler, Timer } from '../clock.js';
import type { ListedChannel } from '../lnd/messages.js';
import type { ListChannels } from './node-snapshot.js';

/** lnd's own figures of one channel, as its node's latest listing gave them. */
export interface LndChannelFigures {
  /** The channel's remote pubkey, lower-case hex. */
  readonly peer: string;
  /** lnd's `uptime`, seconds; undefined when the listing lacked it or it was malformed. */
  readonly uptimeSeconds: number | undefined;
  /** lnd's `lifetime`, seconds; undefined when the listing lacked it or it was malformed. */
  readonly lifetimeSeconds: number | undefined;
}

/** A node's latest ListChannels listing, as lnd counts its channels. */
export interface LndNodeListing {
  /** When its reply arrived, ms since the epoch. */
  readonly time: number;
  /** By channel point; a channel closed since the listing is dropped from it. */
  readonly channels: ReadonlyMap<string, LndChannelFigures>;
}

/** A listing request in flight: the channels closed meanwhile are not taken from its reply. */
export interface ListingRequest {
  readonly node: string;
  /** Its order among the node's requests: an older reply never replaces a newer listing. */
  readonly seq: number;
  readonly closed: Set<string>;
}

/** How often a node's channels are listed again when nothing else asks: 15 minutes. */
export const DEFAULT_LND_REFRESH_MS = 15 * 60_000;

/**
 * How soon a node is listed again after a channel its latest listing lacks
 * opened: 5 s, so that lnd's figures of a new channel come soon, while a burst
 * of opens (a busy node, a JetStream backlog) costs one listing each 5 s at most.
 */
export const DEFAULT_LND_OPEN_REFRESH_MS = 5_000;

export interface LndListingsOptions {
  /** The refresh timers. */
  readonly clock: Scheduler;
  /** Asks a node's `<prefix>.<node>.rpc.list_channels`; undefined when it could not. */
  readonly listChannels: ListChannels;
  /** A node is listed again this long after its last listing request; 15 min by default. */
  readonly refreshIntervalMs?: number;
  /** ... and this soon after a channel its latest listing lacks opened; 5 s by default. */
  readonly openRefreshMs?: number;
}

/** A listing as kept: closes delete from its map, a newer listing replaces it whole. */
interface KeptListing extends LndNodeListing {
  readonly channels: Map<string, LndChannelFigures>;
  readonly seq: number;
}

interface NodeListings {
  listing: KeptListing | undefined;
  readonly requests: Set<ListingRequest>;
  seq: number;
  /** A refresh was asked while a request was in flight: ask once more when none is. */
  again: boolean;
  timer: Timer | undefined;
  /** The timer is the soon one of an open (not the periodic one). */
  soon: boolean;
  /** A channel the listing lacks opened while a request was in flight: list soon after it. */
  openedDuring: boolean;
}

/**
 * lnd's own view of each node's channels: the `uptime` and `lifetime` its
 * ListChannels reports (its chanfitness figures, which restart with lnd),
 * from the node's latest listing, for comparing with this exporter's.
 *
 * A node is listed by its bootstrap (the snapshot's list_channels reply),
 * again at once when its bridge reports lnd back after a down (lnd's figures
 * restart then), 5 s after a channel its latest listing lacks opened, and
 * every refresh interval (15 min) after its last listing request. These
 * listings change nothing in the store: they only replace the node's figures
 * (so what is kept is bounded by the node's channels, as lnd lists them). A channel that closes is dropped at once, also from a reply
 * still in flight.
 */
export class LndListings {
  private readonly nodes = new Map<string, NodeListings>();
  private readonly refreshMs: number;
  private readonly openRefreshMs: number;
  private stopped = false;

  constructor(private readonly options: LndListingsOptions) {
    this.refreshMs = options.refreshIntervalMs ?? DEFAULT_LND_REFRESH_MS;
    this.openRefreshMs = options.openRefreshMs ?? DEFAULT_LND_OPEN_REFRESH_MS;
  }

  /** Every node's latest listing (nodes not listed yet have none). */
  *listings(): IterableIterator<readonly [string, LndNodeListing]> {
    for (const [node, state] of this.nodes) {
      if (state.listing !== undefined) yield [node, state.listing];
    }
  }

  listing(node: string): LndNodeListing | undefined {
    return this.nodes.get(node)?.listing;
  }

  /**
   * Starts listing a node (a tracked node of the ingest): at once when
   * `listNow` (nothing else will ask it: a restored node replayed from
   * JetStream has no bootstrap), else one refresh interval from now.
   */
  track(node: string, listNow: boolean): void {
    const state = this.stateOf(node);
    if (listNow) this.refresh(node);
    else this.schedule(node, state);
  }

  /** Lists the node again now (lnd is back); once more after a request in flight. */
  refresh(node: string): void {
    if (this.stopped) return;
    const state = this.stateOf(node);
    if (state.requests.size > 0) {
      state.again = true;
      return;
    }
    void this.ask(node);
  }

  /** A listing request of the node starts (its bootstrap's, or a refresh). */
  begin(node: string): ListingRequest {
    const state = this.stateOf(node);
    this.cancelTimer(state);
    state.seq += 1;
    const request: ListingRequest = { node, seq: state.seq, closed: new Set() };
    state.requests.add(request);
    return request;
  }

  /**
   * A request has ended: with lnd's listing, received at `time`, or with
   * none (undefined: no usable reply; the figures of the last one stay).
   */
  end(request: ListingRequest, channels: readonly ListedChannel[] | undefined, time: number): void {
    const state = this.nodes.get(request.node);
    if (state === undefined || !state.requests.delete(request)) return;
    if (
      channels !== undefined &&
      (state.listing === undefined || request.seq > state.listing.seq)
    ) {
      const figures = new Map<string, LndChannelFigures>();
      for (const channel of channels) {
        if (request.closed.has(channel.channelPoint)) continue;
        figures.set(channel.channelPoint, {
          peer: channel.pubkey,
          uptimeSeconds: channel.uptimeSeconds,
          lifetimeSeconds: channel.lifetimeSeconds,
        });
      }
      state.listing = { time, channels: figures, seq: request.seq };
    }
    if (state.requests.size > 0 || this.stopped) return;
    if (state.again) {
      state.again = false;
      state.openedDuring = false;
      void this.ask(request.node);
      return;
    }
    const soon = state.openedDuring;
    state.openedDuring = false;
    this.schedule(request.node, state, soon ? this.openRefreshMs : this.refreshMs);
  }

  /**
   * A channel of the node opened: when the latest listing lacks it, the node
   * is listed again soon (once for a burst of opens), also after a request in
   * flight, which may have been made before lnd had it.
   */
  opened(node: string, channelPoint: string): void {
    const state = this.nodes.get(node);
    if (state === undefined || this.stopped) return;
    if (state.listing?.channels.has(channelPoint) === true) return;
    if (state.requests.size > 0) {
      state.openedDuring = true;
      return;
    }
    if (state.soon) return;
    this.schedule(node, state, this.openRefreshMs);
  }

  /**
   * A channel of the node closed: its figures go, and a reply in flight that
   * still lists it does not bring them back. `known`: the store had the
   * channel (only closes of channels the node had are remembered, so that
   * what a request in flight keeps is bounded by the node's channels).
   */
  closed(node: string, channelPoint: string, known: boolean): void {
    const state = this.nodes.get(node);
    if (state === undefined) return;
    const had = state.listing?.channels.delete(channelPoint) === true;
    if (!had && !known) return;
    for (const request of state.requests) request.closed.add(channelPoint);
  }

  /** Asks nothing any more (shutdown): scheduled refreshes are cancelled. */
  stop(): void {
    this.stopped = true;
    for (const state of this.nodes.values()) this.cancelTimer(state);
  }

  private async ask(node: string): Promise<void> {
    const request = this.begin(node);
    let channels: readonly ListedChannel[] | undefined;
    try {
      channels = await this.options.listChannels(node);
    } catch {
      // The asker logs and counts its failures; none is fatal here.
      channels = undefined;
    }
    this.end(request, channels, this.options.clock.now());
  }

  private stateOf(node: string): NodeListings {
    let state = this.nodes.get(node);
    if (state === undefined) {
      state = {
        listing: undefined,
        requests: new Set(),
        seq: 0,
        again: false,
        timer: undefined,
        soon: false,
        openedDuring: false,
      };
      this.nodes.set(node, state);
    }
    return state;
  }

  private schedule(node: string, state: NodeListings, delayMs = this.refreshMs): void {
    if (this.stopped) return;
    this.cancelTimer(state);
    state.soon = delayMs < this.refreshMs;
    state.timer = this.options.clock
      .after(delayMs, () => {
        state.timer = undefined;
        state.soon = false;
        this.refresh(node);
      })
      // A refresh alone keeps nothing running.
      .unref();
  }

  private cancelTimer(state: NodeListings): void {
    state.soon = false;
    if (state.timer === undefined) return;
    state.timer.cancel();
    state.timer = undefined;
  }
}

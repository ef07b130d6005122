import type { Scheduler } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { ListedChannel } from '../lnd/messages.js';
import type { Logger } from '../log/logger.js';
import { RateLimitedLog } from '../log/rate-limited-log.js';
import type { BootstrapPeers } from './bootstrap-peers.js';
import type { BootstrapHeldEvent, BootstrapRetry, NodeState } from './ingest-node-state.js';
import type { LndListings } from './lnd-listings.js';
import type { Bootstrap, NodeSnapshot } from './node-snapshot.js';

export interface NodeBootstrapsDeps {
  readonly bootstrap: Bootstrap;
  readonly bootstrapPeers: BootstrapPeers;
  readonly clock: Scheduler;
  readonly logger: Logger;
  readonly retry: BootstrapRetry;
  /** lnd's own figures of the channels: given the bootstrap listings. */
  readonly lndListings?: LndListings;
  /** Applies an event held while its node bootstrapped, as it would have been at its arrival. */
  readonly applyHeld: (state: NodeState, event: BootstrapHeldEvent) => void;
}

/**
 * The nodes' bootstraps (as lnd's Start adds the channels it has before
 * consuming events): a node is asked for its open channels and connected
 * peers, its events held meanwhile (in NodeState.held) so that a close is
 * never applied before the listing that still shows the channel. A bootstrap
 * that fails is tried again in the background, with a backoff, while the
 * node's events are applied as they come. The first listing after a restore
 * in core NATS mode reconciles the restored state with it.
 */
export class NodeBootstraps {
  /** Bootstrap failures and retries: every node can fail every few seconds. */
  private readonly log: RateLimitedLog;
  private stopped = false;

  constructor(private readonly deps: NodeBootstrapsDeps) {
    this.log = new RateLimitedLog(deps.clock);
  }

  /**
   * Asks a node for its snapshot, holding its events meanwhile; a retry that
   * was scheduled is replaced (and the backoff starts over).
   */
  start(node: string, state: NodeState): void {
    if (state.asking || this.stopped) return;
    this.cancelRetry(state);
    state.retryDelayMs = this.deps.retry.firstMs;
    const held: BootstrapHeldEvent[] = [];
    state.held = held;
    void this.ask(node, state, held);
  }

  /** Asks nothing any more (shutdown): scheduled retries of these nodes are cancelled. */
  stop(states: Iterable<NodeState>): void {
    this.stopped = true;
    for (const state of states) this.cancelRetry(state);
  }

  /** Applies the events held during a bootstrap, in order, and stops holding. */
  release(state: NodeState): void {
    const held = state.held ?? [];
    state.held = undefined;
    for (const event of held) this.deps.applyHeld(state, event);
  }

  /**
   * One try. Events held for it (none for a retry) are released when it has
   * answered, whatever the answer; a failure schedules the next try.
   */
  private async ask(
    node: string,
    state: NodeState,
    held: BootstrapHeldEvent[] | undefined,
  ): Promise<void> {
    state.asking = true;
    let complete = false;
    try {
      complete = await this.applySnapshot(node, state, held);
    } finally {
      state.asking = false;
      if (held !== undefined && state.held === held) this.release(state);
      if (complete) state.retryDelayMs = this.deps.retry.firstMs;
      else this.scheduleRetry(node, state);
    }
  }

  private scheduleRetry(node: string, state: NodeState): void {
    if (this.stopped) return;
    this.cancelRetry(state);
    const delayMs = state.retryDelayMs;
    state.retryDelayMs = Math.min(delayMs * 2, this.deps.retry.maxMs);
    this.log.log('retry', (suppressed) => {
      this.deps.logger.info(
        {
          node,
          retryInMs: delayMs,
          ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}),
        },
        'bootstrap incomplete: asking the node again later, applying its events meanwhile',
      );
    });
    state.retry = this.deps.clock
      .after(delayMs, () => {
        state.retry = undefined;
        if (!this.stopped && !state.asking) void this.ask(node, state, undefined);
      })
      // A retry alone keeps nothing running.
      .unref();
  }

  private cancelRetry(state: NodeState): void {
    if (state.retry === undefined) return;
    state.retry.cancel();
    state.retry = undefined;
  }

  /**
   * Asks for the node's snapshot and applies what it got; true when it got
   * all of it. The listed channels are added at the reply time, or at the
   * time of the first event held for this bootstrap when that is earlier (a
   * JetStream backlog): the store resumes where its input resumes, and the
   * held events then apply at their own times, none of them reordered.
   */
  private async applySnapshot(
    node: string,
    state: NodeState,
    held: readonly BootstrapHeldEvent[] | undefined,
  ): Promise<boolean> {
    const { clock, lndListings } = this.deps;
    // lnd's figures come with the listing: closes applied meanwhile are kept out of it.
    const listing = lndListings?.begin(node);
    let listed: readonly ListedChannel[] | undefined;
    try {
      const snapshot = await this.deps.bootstrap(node);
      if (snapshot?.channelsListed === true) listed = snapshot.channels;
      if (snapshot === undefined) {
        state.store.bootstrapped(false, clock.now());
        return false;
      }
      if (snapshot.onlinePeers !== undefined) {
        this.deps.bootstrapPeers.set(node, snapshot.onlinePeers);
      }
      const replyTime = clock.now();
      // Still there when the hold overflowed and let them go: they were applied from that time.
      const firstHeld = held?.[0]?.time;
      const time = firstHeld !== undefined && firstHeld < replyTime ? firstHeld : replyTime;
      // The node answered: it is back (a gap it was in ends the settle time later).
      state.store.bootstrapped(true, replyTime);
      if (state.restored === 'reconcile') {
        if (snapshot.incomplete === true) return false;
        state.restored = undefined;
        this.reconcile(node, state, snapshot, replyTime);
        return true;
      }
      for (const channel of snapshot.channels) {
        state.gate.openChannel(channel.pubkey, channel.channelPoint, time, 'bootstrap');
      }
      return snapshot.incomplete !== true;
    } catch (err) {
      state.store.bootstrapped(false, clock.now());
      this.log.log('failed', (suppressed) => {
        this.deps.logger.warn(
          {
            node,
            err: errorMessage(err),
            ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}),
          },
          'bootstrap failed',
        );
      });
      return false;
    } finally {
      // Before the held events are released: a close among them drops its channel's figures.
      if (listing !== undefined) lndListings?.end(listing, listed, clock.now());
    }
  }

  /**
   * The first listing after a restore (core NATS, where what happened while
   * the exporter was down is lost): channels the node no longer lists are
   * closed, listed channels the store lacks are added, and peers whose listed
   * connectivity differs from the restored one get it, all at the reply time.
   */
  private reconcile(node: string, state: NodeState, snapshot: NodeSnapshot, time: number): void {
    const { store, gate } = state;
    const listed = new Set(snapshot.channels.map((c) => c.channelPoint));
    let closed = 0;
    let opened = 0;
    let changed = 0;
    for (const channel of [...store.channels()]) {
      if (listed.has(channel.channelPoint)) continue;
      gate.closeChannel(channel.peer.pubkey, channel.channelPoint, time);
      closed += 1;
    }
    const online = snapshot.onlinePeers;
    if (online !== undefined) {
      for (const pubkey of [...store.knownPeers()]) {
        const listed = online.has(pubkey);
        // The restored state: a monitor's own, else the last peer event's (the
        // listing just read is already the fallback of connectivity()).
        const restored = store.peer(pubkey)?.online ?? store.connectivity(pubkey);
        if (restored === listed) continue;
        gate.peerEvent(pubkey, listed, time);
        changed += 1;
      }
    }
    for (const channel of snapshot.channels) {
      if (store.channel(channel.channelPoint) !== undefined) continue;
      gate.openChannel(channel.pubkey, channel.channelPoint, time, 'bootstrap');
      opened += 1;
    }
    this.deps.logger.info(
      { node, closed, opened, connectivityChanged: changed },
      'restored history reconciled with the node listings',
    );
  }
}

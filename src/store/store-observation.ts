import type { Gap } from './node-observation.js';
import { StoreState } from './store-state.js';

/**
 * Observed time (README "Observed time"): the node's statuses, bootstrap
 * replies and the clock's ticks open and close gaps; the end of a gap gives
 * each monitored peer its connectivity at that moment; a gap found to start
 * before events already counted has their totals counted again.
 */
export abstract class ObservingStore extends StoreState {
  /** The bridge's `<prefix>.<node>.status`: lnd is up (streams connected) or down. */
  status(up: boolean, time: number): void {
    if (this.journal !== undefined) this.record({ kind: 'status', up, time });
    // A silence no tick saw (a JetStream backlog, where ticks wait) is still one.
    this.observeAt(time);
    if (up) this.observation.up(time);
    else this.observationChangedFrom(this.observation.down(time));
  }

  /**
   * The node's bootstrap answered (it is back: a gap ends the settle time
   * later) or failed (back too for a node that never sent a status: nothing
   * else would tell).
   */
  bootstrapped(answered: boolean, time: number): void {
    if (this.journal !== undefined) this.record({ kind: 'bootstrap', answered, time });
    this.endGapIfDue(time);
    if (answered || !this.observation.statusSeen) this.observation.back(time);
  }

  /**
   * At clock time now (the shell's scheduler calls this while its input is
   * caught up): a settling gap whose end has come ends, and a node whose
   * statuses stopped for the timeout becomes unobserved from its last one.
   */
  tick(now: number): void {
    this.observeAt(now);
  }

  /**
   * The exporter did not run from `since` on (a core NATS restart, where
   * nothing replays that time): the node is unobserved from there until it
   * is back (EXPORTER_DOWN).
   */
  exporterDown(since: number): void {
    this.observationChangedFrom(this.observation.exporterDown(since));
  }

  /** True unless a gap lasts (open, or settling with its end events still due). */
  get observed(): boolean {
    return this.observation.observed;
  }

  /**
   * True unless a gap lasts at now: a settling gap whose end has come is
   * over, even before the next event or tick records its end.
   */
  observedAt(now: number): boolean {
    return this.observation.observed || now >= this.observation.closesAt;
  }

  /** The node's gaps overlapping [from, to], oldest first. */
  gaps(from: number, to: number, limit?: number): Gap[] {
    return this.observation.gaps(from, to, limit);
  }

  /** The node's unobserved time up to now, compacted gaps included. */
  unobservedTotal(now: number = this.config.clock.now()): number {
    return this.observation.unobservedUntil(now);
  }

  /** What time alone says at `time`: a silence of the timeout, the end of a settling gap. */
  private observeAt(time: number): void {
    const silent = this.observation.silentSince(time);
    // Silent since before the planned end: the gap never ended (no end events).
    if (silent === undefined || silent > this.observation.closesAt) this.endGapIfDue(time);
    this.observationChangedFrom(this.observation.checkSilence(time));
  }

  /** Before applying anything at `time`: a settling gap that has ended gets its end events. */
  protected endGapIfDue(time: number): void {
    if (time >= this.observation.closesAt) this.endGap();
  }

  /**
   * A gap has ended: from its end on each peer counts as online or offline
   * by its connectivity at that moment, an event (no flap) for each peer
   * whose log says otherwise.
   */
  protected endGap(): void {
    const end = this.observation.closesAt;
    this.observation.close();
    for (const monitor of this.monitors.values()) {
      const pubkey = monitor.pubkey;
      const state = this.peerStates.get(pubkey);
      const time = Math.max(end, state?.latest ?? end);
      if (!monitor.gapEnded(this.connectivity(pubkey), time)) continue;
      if (state !== undefined) state.latest = time;
      if (time > this.latestApplied) this.latestApplied = time;
      this.dirty?.add(pubkey);
      if (!this.replaying) {
        this.config.observer?.peerEventApplied?.(
          pubkey,
          monitor.online,
          end,
          time,
          monitor.flapCount,
        );
      }
    }
  }

  /**
   * A gap opened at `from` (undefined: none did). When events after it were
   * already counted, their totals are counted again without it.
   */
  protected observationChangedFrom(from: number | undefined): void {
    if (from === undefined || from >= this.latestApplied) return;
    for (const monitor of this.monitors.values()) {
      monitor.observationChangedFrom(from);
      this.dirty?.add(monitor.pubkey);
    }
    this.channelVersion += 1;
  }
}

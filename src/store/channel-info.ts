import { TrackedChannel, type ChannelView, type PeerView } from './peer-monitor.js';

/** lnd's ChannelInfo, in milliseconds, over observed time. */
export interface ChannelInfo {
  /**
   * How long the channel has been monitored: now - openedAt less the time its
   * node was not observed (lnd's now - openedAt when it always was).
   */
  readonly lifetime: number;
  /** How long its peer was online in that time: uptime(openedAt, now). */
  readonly uptime: number;
}

/**
 * lnd's channelUptime, over observed time. An opening time in the future
 * (event timestamps may lead the clock a little) reads as zero rather than
 * negative.
 */
export function channelInfo(channel: ChannelView, now: number): ChannelInfo {
  if (!(now - channel.openedAt > 0)) return { lifetime: 0, uptime: 0 };
  return { lifetime: channelLifetimeAt(channel, now), uptime: channelUptimeAt(channel, now) };
}

/** The time since the channel's opening during which its node was not observed. */
export function channelUnobservedAt(channel: ChannelView, now: number): number {
  const age = now - channel.openedAt;
  return age > 0 ? age - channelLifetimeAt(channel, now) : 0;
}

/** The channel's observed lifetime at now: now - openedAt when its node was always observed. */
export function channelLifetimeAt(channel: ChannelView, now: number): number {
  return channel.peer.observation.observedSince(channel.openedAt, channel.unobservedAtOpening, now);
}

/**
 * The uptime of channelInfo alone, without an object: uptime(openedAt, now),
 * 0 while the lifetime is not positive. A tracked channel keeps the online
 * time at its opening memoized, so that this costs O(1) once it is final.
 */
export function channelUptimeAt(channel: ChannelView, now: number): number {
  if (!(now - channel.openedAt > 0)) return 0;
  const log = channel.peer.log;
  return channel instanceof TrackedChannel
    ? log.uptimeFrom(channel.openedAt, now, now, channel)
    : log.uptime(channel.openedAt, now, now);
}

/**
 * For ranking many channels at one instant: the online time of the peer's log
 * up to now, computed once for all the peer's channels (channelUptimeWith).
 */
export function peerOnlineUntil(peer: PeerView, now: number): number {
  return peer.log.onlineUntilNow(now);
}

/**
 * For windowed uptime of many channels at one instant, peer by peer: the
 * online time of the peer's log up to t (at or before now). The uptime over
 * [t, now] of each of its channels opened before t is then
 * peerOnlineUntil(peer, now) minus this, the subtraction uptime(t, now) makes.
 */
export function peerOnlineUntilAt(peer: PeerView, t: number, now: number): number {
  return peer.log.onlineUntilAt(t, now);
}

/**
 * channelUptimeAt(channel, now), given peerOnlineUntil(channel.peer, now)
 * computed at the same instant with no event applied in between.
 */
export function channelUptimeWith(channel: ChannelView, now: number, peerUntilNow: number): number {
  if (!(now - channel.openedAt > 0)) return 0;
  const log = channel.peer.log;
  return channel instanceof TrackedChannel
    ? log.uptimeFromUntil(channel.openedAt, now, peerUntilNow, channel)
    : log.uptime(channel.openedAt, now, now);
}

/** A monitored peer's online time over its monitored time, in milliseconds. */
export interface PeerUptime {
  /**
   * How long the peer has been monitored, as far as its event log tells: now -
   * createdAt, or the lifetime of its oldest open channel once its log
   * restarted (see peerUptime); 0 while it has no channel (its log went with
   * its last channel) or when that start is not before now.
   */
  readonly monitored: number;
  /** How long it was online in that time, from its event log. */
  readonly uptime: number;
}

const NO_PEER_UPTIME: PeerUptime = { monitored: 0, uptime: 0 };

/**
 * A peer's uptime over the time it has been monitored: uptime(createdAt, now)
 * of its log over now - createdAt. A log dropped with the peer's last channel
 * leaves nothing to count from (no monitored time). A log started again by a
 * later channel says nothing of the time before it, which would read as
 * offline: the span is then that of the peer's oldest open channel, whose
 * uptime its memo keeps exact even once the log is compacted.
 */
/**
 * Where a peer's log starts telling its state: its monitor's creation while
 * the log was kept since (epoch 0), else the opening of its oldest open
 * channel (the log started again with it); undefined without a channel.
 */
export function peerLogStart(peer: PeerView): number | undefined {
  if (peer.channelCount === 0) return undefined;
  if (peer.log.epoch === 0) return peer.createdAt;
  let oldest: number | undefined;
  for (const channel of peer.channels()) {
    if (oldest === undefined || channel.openedAt < oldest) oldest = channel.openedAt;
  }
  return oldest;
}

export function peerUptime(peer: PeerView, now: number): PeerUptime {
  if (peer.channelCount === 0) return NO_PEER_UPTIME;
  if (peer.log.epoch === 0) {
    // The log starts at the monitor's creation (its first channel seeded it),
    // and online time from it stays exact however much of it is compacted.
    const monitored = peer.observation.observedSince(
      peer.createdAt,
      peer.unobservedAtCreation,
      now,
    );
    if (!(monitored > 0)) return NO_PEER_UPTIME;
    return { monitored, uptime: peer.log.uptime(peer.createdAt, now, now) };
  }
  let oldest: ChannelView | undefined;
  for (const channel of peer.channels()) {
    if (oldest === undefined || channel.openedAt < oldest.openedAt) oldest = channel;
  }
  if (oldest === undefined) return NO_PEER_UPTIME;
  const info = channelInfo(oldest, now);
  return info.lifetime > 0 ? { monitored: info.lifetime, uptime: info.uptime } : NO_PEER_UPTIME;
}

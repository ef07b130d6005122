import { TrackedChannel, type ChannelView, type PeerView } from './peer-monitor.js';

/** lnd's ChannelInfo, in milliseconds. */
export interface ChannelInfo {
  /** How long the channel has been monitored: now - openedAt. */
  readonly lifetime: number;
  /** How long its peer was online in that time: uptime(openedAt, now). */
  readonly uptime: number;
}

/**
 * lnd's channelUptime. An opening time in the future (event timestamps may
 * lead the clock a little) reads as zero rather than negative.
 */
export function channelInfo(channel: ChannelView, now: number): ChannelInfo {
  const lifetime = now - channel.openedAt;
  if (!(lifetime > 0)) return { lifetime: 0, uptime: 0 };
  return { lifetime, uptime: channelUptimeAt(channel, now) };
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

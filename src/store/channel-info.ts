import type { ChannelView } from './peer-monitor.js';

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
  return { lifetime, uptime: channel.peer.log.uptime(channel.openedAt, now, now) };
}

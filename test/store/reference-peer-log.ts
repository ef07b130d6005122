/**
 * A brute-force oracle for the property tests: lnd's peerLog written the plain
 * way (arrays, rescans), independent of OnlineLog's cumulative index.
 */
import { cooldownFlapCount, rateLimitMs } from '../../src/store/rate-limit.js';

interface Ev {
  time: number;
  online: boolean;
}

export class ReferencePeerLog {
  online = false;
  events: Ev[] = [];
  staged: Ev | undefined;
  channels = new Map<string, number>();

  constructor(
    public flapCount: number,
    public lastFlap: number | undefined,
  ) {}

  onlineEvent(online: boolean, time: number): void {
    if (this.lastFlap !== undefined) {
      this.flapCount = cooldownFlapCount(time, this.flapCount, this.lastFlap);
    }
    this.flapCount++;
    this.lastFlap = time;
    this.online = online;
    if (this.channels.size === 0) return;
    this.addEvent(online, time);
  }

  addEvent(online: boolean, time: number): void {
    const event = { time, online };
    if (this.staged === undefined) {
      this.staged = event;
      return;
    }
    if (this.staged.time + rateLimitMs(this.flapCount) < time) this.events.push(this.staged);
    this.staged = event;
  }

  addChannel(cp: string, time: number): void {
    if (this.channels.has(cp)) throw new Error('duplicate');
    this.channels.set(cp, time);
    if (this.events.length === 0) this.addEvent(this.online, time);
  }

  removeChannel(cp: string): void {
    if (!this.channels.delete(cp)) throw new Error('unknown');
    if (this.channels.size === 0) {
      this.events = [];
      this.staged = undefined;
    }
  }

  listEvents(): Ev[] {
    return this.staged === undefined ? this.events : [...this.events, this.staged];
  }

  /** lnd's getOnlinePeriods. */
  periods(now: number): { start: number; end: number }[] {
    const events = this.listEvents();
    if (events.length === 0) return [];
    const out: { start: number; end: number }[] = [];
    let last: Ev | undefined;
    for (const e of events) {
      if (last === undefined) {
        last = e;
        continue;
      }
      if (e.online) {
        if (!last.online) last = e;
      } else if (last.online) {
        out.push({ start: last.time, end: e.time });
        last = e;
      }
    }
    if (last !== undefined && last.online) out.push({ start: last.time, end: now });
    return out;
  }

  /** lnd's uptime, with negative spans (a trailing period whose start is after now) counted as 0. */
  uptime(start: number, end: number, now: number): number {
    if (end < start || end === 0) throw new Error('invalid range');
    let total = 0;
    for (const p of this.periods(now)) {
      if (p.end < start) continue;
      if (p.start > end) break;
      total += Math.max(0, Math.min(p.end, end) - Math.max(p.start, start));
    }
    return total;
  }
}

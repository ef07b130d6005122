import { systemScheduler, type Scheduler, type Timer } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Publisher } from './nats/publisher.js';
import { describeFailure, type StreamHealth, type StreamHealthChange } from './stream-relay.js';

export type LndAvailability = 'up' | 'down';

/** What the status reads of a stream relay. */
export interface WatchedStream {
  readonly name: string;
  readonly health: StreamHealth;
  readonly failure: string | undefined;
}

export interface LndStatusOptions {
  /** `<prefix>.<node>.status` */
  readonly subject: string;
  readonly publisher: Publisher;
  /** lnd's GetInfo (`GET /v1/getinfo`): its JSON body, or a rejection when lnd does not answer. */
  readonly getInfo: (signal: AbortSignal) => Promise<Buffer>;
  readonly streams: readonly WatchedStream[];
  /** Between two checks, ms; while lnd is up each check publishes `up` (the heartbeat). */
  readonly intervalMs: number;
  readonly logger: Logger;
  /** The statuses' times and the heartbeat's timer; the system scheduler by default. */
  readonly clock?: Scheduler;
}

/** What a check concludes; `pending` while a stream has not been accepted yet since start. */
type Verdict =
  | { readonly state: 'up'; readonly info: Record<string, unknown> }
  | { readonly state: 'down'; readonly reason: string }
  | { readonly state: 'pending' };

/** lnd's GetInfo fields worth a log line when lnd comes up. */
const INFO_FIELDS = ['identity_pubkey', 'alias', 'version', 'block_height', 'synced_to_chain'];

/**
 * Publishes lnd's availability on `<prefix>.<node>.status` as
 * `{"lnd":"up"|"down","timestamp":"<RFC 3339>"}`, so that the exporter can tell
 * the time nobody observed the node.
 *
 * lnd is *up* when GetInfo answers and both event streams are accepted (a
 * subscription shows nothing until its first event, so one lnd has held for a
 * moment without refusing it counts); *down* when GetInfo fails (unreachable,
 * timeout, HTTP error) or a stream fails (refused, unreachable, broken, or
 * ended with lnd's error line). A stream lnd ends cleanly and that is reopened
 * at once is no failure. Checks run at start, every interval, and whenever a
 * stream is accepted, fails or ends; `down` is published on each change to
 * down, `up` on each change to up and at every interval while up.
 */
export class LndStatus {
  /** The last status published; undefined before the first. */
  last: LndAvailability | undefined;
  /** Status messages published. */
  published = 0;
  /** Checks completed. */
  checks = 0;
  private readonly clock: Scheduler;
  private readonly abort = new AbortController();
  private timer: Timer | undefined;
  private running: Promise<void> | undefined;
  private busy = false;
  private again = false;
  private heartbeatDue = false;
  private stopped = false;

  constructor(private readonly options: LndStatusOptions) {
    this.clock = options.clock ?? systemScheduler;
  }

  start(): void {
    this.arm();
    this.request(false);
  }

  /** A stream relay's health changed: a failure is enough for `down` at once, whatever GetInfo says. */
  onStreamChange(stream: WatchedStream, change: StreamHealthChange): void {
    if (this.stopped) return;
    if (change === 'failed') {
      this.conclude(
        { state: 'down', reason: stream.failure ?? `lnd ${stream.name} failed` },
        this.clock.now(),
        false,
      );
    }
    this.request(false);
  }

  /** Resolves once no check is running or queued. */
  async idle(): Promise<void> {
    await this.running;
  }

  /** Stops checking; a check in flight is abandoned without publishing. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.abort.abort();
    await this.running;
  }

  /** At an orderly stop of the bridge, after stop(): nobody observes lnd from now on. */
  publishStopped(): void {
    this.publish('down', this.clock.now());
    this.options.logger.info({ subject: this.options.subject }, 'published lnd down: stopping');
  }

  /** The heartbeat: every interval from the last change to up (or the start). */
  private arm(): void {
    this.timer?.cancel();
    if (this.stopped) return;
    this.timer = this.clock.after(this.options.intervalMs, () => {
      this.arm();
      this.request(true);
    });
  }

  /** Runs a check, or one more after the one in flight: checks never overlap. */
  private request(heartbeat: boolean): void {
    if (this.stopped) return;
    if (heartbeat) this.heartbeatDue = true;
    this.again = true;
    if (this.busy) return;
    this.busy = true;
    this.running = this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (this.again && !this.stopped) {
        this.again = false;
        const heartbeat = this.heartbeatDue;
        this.heartbeatDue = false;
        try {
          await this.check(heartbeat);
        } catch (err) {
          this.options.logger.error({ err: errorMessage(err) }, 'checking lnd failed');
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private async check(heartbeat: boolean): Promise<void> {
    const startedAt = this.clock.now();
    const verdict = await this.evaluate();
    if (this.stopped) return;
    this.checks++;
    // Down from when the check began (lnd was failing by then), up from lnd's answer.
    this.conclude(verdict, verdict.state === 'down' ? startedAt : this.clock.now(), heartbeat);
  }

  private async evaluate(): Promise<Verdict> {
    const failingBefore = this.failingStream();
    if (failingBefore !== undefined) return failingBefore;
    let body: Buffer;
    try {
      body = await this.options.getInfo(this.abort.signal);
    } catch (err) {
      if (this.stopped) return { state: 'pending' };
      return { state: 'down', reason: describeFailure(err, 'GetInfo') };
    }
    const info = getInfoSummary(body);
    if (info === undefined) {
      return { state: 'down', reason: "GetInfo answered with something other than lnd's JSON" };
    }
    // A stream may have failed while GetInfo was in flight.
    const failingAfter = this.failingStream();
    if (failingAfter !== undefined) return failingAfter;
    if (this.options.streams.some((s) => s.health === 'starting')) return { state: 'pending' };
    return { state: 'up', info };
  }

  private failingStream(): Verdict | undefined {
    const failing = this.options.streams.find((s) => s.health === 'failing');
    if (failing === undefined) return undefined;
    return { state: 'down', reason: failing.failure ?? `lnd ${failing.name} failed` };
  }

  private conclude(verdict: Verdict, at: number, heartbeat: boolean): void {
    const { logger, subject } = this.options;
    switch (verdict.state) {
      case 'pending':
        logger.debug('lnd answers; waiting for its event streams to be accepted');
        return;
      case 'down':
        if (this.last === 'down') return;
        this.publish('down', at);
        logger.warn({ subject, reason: verdict.reason }, `lnd is down: ${verdict.reason}`);
        return;
      case 'up': {
        const changed = this.last !== 'up';
        if (!changed && !heartbeat) return;
        this.publish('up', at);
        if (changed) {
          // Heartbeats count from here, not from a timer armed while lnd was down
          // (nor from one that fired while this check was in flight).
          this.heartbeatDue = false;
          this.arm();
          logger.info({ subject, ...verdict.info }, 'lnd is up');
        } else {
          logger.debug({ subject }, 'lnd is up (heartbeat)');
        }
        return;
      }
    }
  }

  private publish(state: LndAvailability, at: number): void {
    const data = JSON.stringify({ lnd: state, timestamp: new Date(at).toISOString() });
    // A status no stream captures must not hold the events back (JetStream).
    this.options.publisher.publish(this.options.subject, data, { skipUncaptured: true });
    this.last = state;
    this.published++;
  }
}

/** The loggable fields of lnd's GetInfo reply; undefined when it is not a JSON object. */
export function getInfoSummary(body: Buffer): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(INFO_FIELDS.filter((k) => k in record).map((k) => [k, record[k]]));
}

import { randomUUID } from 'node:crypto';
import { ErrorCode, type JetStreamClient, type NatsConnection, type NatsError } from 'nats';
import { systemScheduler, type Scheduler } from '../../clock.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../log/logger.js';

export interface PublishOptions {
  /**
   * JetStream: drop the message, rather than retry it, when no stream captures its
   * subject, so that the events behind it never wait for it (a status message: the
   * next heartbeat stands in for a lost one, and older streams lack the subject).
   */
  readonly skipUncaptured?: boolean;
}

/** Where relayed events go, in the order given, across subjects. */
export interface Publisher {
  publish(subject: string, data: string, options?: PublishOptions): void;
  /**
   * At shutdown: waits (bounded) until what was published has left (core) or
   * been acknowledged (JetStream); later messages are dropped.
   */
  close(timeoutMs: number): Promise<void>;
  /** Messages handed over to NATS (core) or acknowledged by the stream (JetStream). */
  readonly published: number;
  /** Messages given up: NATS refused them (core), or the JetStream queue overflowed. */
  readonly dropped: number;
  /** JetStream: skipUncaptured messages dropped because no stream captures their subject. */
  readonly uncaptured: number;
}

/**
 * Core NATS: fire and forget. While the client reconnects, nats.js buffers what
 * is published and sends it once connected again.
 */
export class CorePublisher implements Publisher {
  published = 0;
  dropped = 0;
  readonly uncaptured = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly logger: Logger,
    /** The close's bound; the system scheduler by default. */
    private readonly clock: Scheduler = systemScheduler,
  ) {}

  publish(subject: string, data: string): void {
    try {
      this.nc.publish(subject, data);
      this.published++;
    } catch (err) {
      // Closed or draining connection, or over the server's max_payload.
      this.dropped++;
      this.logger.error({ subject, bytes: data.length, err: errorMessage(err) }, 'publish failed');
    }
  }

  async close(timeoutMs: number): Promise<void> {
    if (this.nc.isClosed()) return;
    await withTimeout(this.clock, this.nc.flush(), timeoutMs);
  }
}

export interface JetStreamPublisherOptions {
  /** Messages waiting for their acknowledgement at most; the oldest are dropped beyond. */
  readonly maxQueue?: number;
  /** How long to wait for an acknowledgement, ms. */
  readonly ackTimeoutMs?: number;
  /** Delay before retrying a message that was not acknowledged, ms (doubled up to 30 s). */
  readonly retryMs?: number;
  /** The retries' waits and the close's bound; the system scheduler by default. */
  readonly clock?: Scheduler;
}

interface Pending {
  readonly subject: string;
  readonly data: string;
  readonly msgID: string;
  readonly skipUncaptured: boolean;
}

/**
 * JetStream: each message is published and its acknowledgement awaited before
 * the next, so that the stream holds them in order; one that is not
 * acknowledged (no stream, NATS away, timeout) is retried with the same
 * message id, which the stream's duplicate window deduplicates should the
 * first attempt have landed after all. Waiting messages are bounded.
 */
export class JetStreamPublisher implements Publisher {
  published = 0;
  dropped = 0;
  uncaptured = 0;
  private readonly js: JetStreamClient;
  private readonly queue: Pending[] = [];
  private running = false;
  private stopped = false;
  private readonly idPrefix = randomUUID();
  private sequence = 0;
  private idle: (() => void) | undefined;
  private wakeRetry: (() => void) | undefined;

  constructor(
    nc: NatsConnection,
    private readonly logger: Logger,
    private readonly options: JetStreamPublisherOptions = {},
  ) {
    this.js = nc.jetstream();
  }

  publish(subject: string, data: string, options: PublishOptions = {}): void {
    if (this.stopped) {
      this.dropped++;
      return;
    }
    const maxQueue = this.options.maxQueue ?? 10_000;
    if (this.queue.length >= maxQueue) {
      this.queue.splice(1, 1); // keep the head: it may be in flight
      this.dropped++;
      if (this.dropped === 1 || this.dropped % 1000 === 0) {
        this.logger.error(
          { dropped: this.dropped, maxQueue },
          'JetStream publish queue full: dropping the oldest waiting events',
        );
      }
    }
    this.queue.push({
      subject,
      data,
      msgID: `${this.idPrefix}-${++this.sequence}`,
      skipUncaptured: options.skipUncaptured ?? false,
    });
    if (!this.running) void this.run();
  }

  /** Waits until the queue is empty, or gives up after timeoutMs (what is left is dropped). */
  async close(timeoutMs: number): Promise<void> {
    if (this.queue.length > 0) {
      // Shutting down: no point in backing off now.
      this.wakeRetry?.();
      await withTimeout(
        this.options.clock ?? systemScheduler,
        new Promise<void>((resolve) => {
          this.idle = resolve;
        }),
        timeoutMs,
      ).catch(() => undefined);
    }
    this.stopped = true;
    if (this.queue.length > 0) {
      this.logger.warn(
        { unacknowledged: this.queue.length },
        'stopping with events the stream has not acknowledged',
      );
      this.dropped += this.queue.length;
      this.queue.length = 0;
    }
  }

  private async run(): Promise<void> {
    this.running = true;
    const baseRetryMs = this.options.retryMs ?? 1_000;
    let retryMs = baseRetryMs;
    let failures = 0;
    for (let head = this.queue[0]; head !== undefined && !this.stopped; head = this.queue[0]) {
      try {
        await this.js.publish(head.subject, head.data, {
          msgID: head.msgID,
          timeout: this.options.ackTimeoutMs ?? 5_000,
        });
        if (this.queue[0] === head) this.queue.shift();
        this.published++;
        if (failures > 0) {
          this.logger.info({ failures }, 'JetStream acknowledges events again');
        }
        failures = 0;
        retryMs = baseRetryMs;
      } catch (err) {
        if (head.skipUncaptured && isNoResponders(err)) {
          if (this.queue[0] === head) this.queue.shift();
          this.uncaptured++;
          if (this.uncaptured === 1 || this.uncaptured % 100 === 0) {
            this.logger.warn(
              { subject: head.subject, uncaptured: this.uncaptured },
              `no stream captures ${head.subject}: dropping it; add the subject to the stream's subjects`,
            );
          }
          continue;
        }
        failures++;
        if (failures === 1 || failures % 10 === 0) {
          this.logger.error(
            { subject: head.subject, waiting: this.queue.length, failures, err: errorMessage(err) },
            `JetStream did not acknowledge an event, retrying: ${hint(err, head.subject)}`,
          );
        }
        const wake = new AbortController();
        this.wakeRetry = () => {
          wake.abort();
        };
        await (this.options.clock ?? systemScheduler).sleep(retryMs, { signal: wake.signal });
        this.wakeRetry = undefined;
        retryMs = Math.min(retryMs * 2, 30_000);
      }
    }
    this.running = false;
    if (this.queue.length === 0) this.idle?.();
  }
}

function isNoResponders(err: unknown): boolean {
  const code = (err as Partial<NatsError>).code;
  return code === ErrorCode.NoResponders || code === '503';
}

function hint(err: unknown, subject: string): string {
  const code = (err as Partial<NatsError>).code;
  if (isNoResponders(err)) {
    return (
      `no stream captures ${subject}: start the exporter with --nats.stream <name> --nats.create-stream, ` +
      'or create a stream on <prefix>.*.channel_events, <prefix>.*.peer_events and <prefix>.*.status'
    );
  }
  if (code === ErrorCode.Timeout) return 'no acknowledgement in time (NATS unreachable?)';
  return 'see err';
}

async function withTimeout<T>(
  clock: Scheduler,
  promise: Promise<T>,
  timeoutMs: number,
): Promise<T> {
  let timedOut: (err: Error) => void = () => undefined;
  const timeout = new Promise<never>((_, reject) => {
    timedOut = reject;
  });
  const timer = clock.after(timeoutMs, () => {
    timedOut(new Error(`not done within ${timeoutMs} ms`));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    timer.cancel();
  }
}

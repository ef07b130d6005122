import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerInfo,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
} from 'nats';
import type { JetStreamSettings } from '../config/settings.js';
import { CodedError, errorMessage } from '../errors.js';
import type { EventIngest, EventSubject } from '../ingest/event-ingest.js';
import type { Logger } from '../log/logger.js';

const DEFAULT_ACK_WAIT_MS = 30_000;
const DEFAULT_RETRY_MS = 5_000;
const JETSTREAM_NOT_FOUND = 10059; // stream not found
const CONSUMER_NOT_FOUND = 10014;
/** Subjects whose route is remembered, at most. */
const MAX_ROUTES = 10_000;

interface Route {
  readonly node: string;
  readonly subject: EventSubject;
}

export class JetStreamSetupError extends CodedError<'STREAM_NOT_FOUND' | 'JETSTREAM_SETUP'> {}

/** The subjects a stream of lnd events holds (never `<prefix>.>`: see streamSubjects). */
export function streamSubjects(prefix: string): string[] {
  // A stream on `<prefix>.>` would also capture the bootstrap requests to
  // `<prefix>.<node>.rpc.*` and answer them with its publish acknowledgement.
  return [`${prefix}.*.channel_events`, `${prefix}.*.peer_events`];
}

export interface JetStreamDeliveryOptions {
  readonly settings: JetStreamSettings;
  readonly prefix: string;
  readonly logger: Logger;
  /** How long the server waits for an acknowledgement before redelivering (ms). */
  readonly ackWaitMs?: number;
  /** How long to wait before retrying a failed set-up (ms). */
  readonly retryMs?: number;
}

interface PendingMessage {
  readonly seq: number;
  /** The latest delivery of the message: the one whose acknowledgement counts. */
  msg: JsMsg;
  /** Applied or rejected by the store. */
  settled: boolean;
}

/**
 * Durable JetStream delivery (SPEC 3.5): a durable pull consumer on the stream;
 * a message is acknowledged only once the store has applied (or rejected) it,
 * so nothing published while the exporter was down or disconnected is lost;
 * unacknowledged messages are bounded by max_ack_pending.
 *
 * Order and exactly-once matter (a late open would make the peer events
 * after it count nothing), so:
 * - messages are acknowledged in stream order only: everything above the
 *   consumer's acknowledgement floor is unapplied or in this process's hands;
 * - a delivery lost in transit (a network blip, a NATS restart) shows as a gap
 *   in the consumer's delivery sequence: its message would come back only after
 *   the acknowledgement wait, behind later ones, so the consumer is recreated
 *   from the first unacknowledged message instead (also at start and after a
 *   reconnection, when messages wait unacknowledged on the server);
 * - a message already handed to the store in this process is never handed
 *   again: its redelivery only replaces the delivery that will be acknowledged.
 */
export class JetStreamDelivery {
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  /**
   * Handed to the store and not yet acknowledged, by ascending stream sequence,
   * from index `head` on (a queue: acknowledgements take from the front).
   */
  private pending: PendingMessage[] = [];
  private head = 0;
  /** Every stream sequence up to this one is acknowledged (or was, before this process). */
  private ackedThrough = 0;
  /** Delivery sequence of the last message of the current consumer; 0 for a new one. */
  private lastDelivery = 0;
  /** Bumped for each consumer: messages of a replaced one are ignored. */
  private generation = 0;
  private restarting: Promise<void> | undefined;
  private drained: (() => void) | undefined;
  /** Routes of the subjects seen; null for a subject that is not ours. */
  private readonly routes = new Map<string, Route | null>();
  /** Deliveries of messages already handed over (redeliveries), not applied again. */
  duplicatesSkipped = 0;
  /** Times the consumer was recreated from the first unacknowledged message. */
  restarts = 0;
  /** True once the consumer is set up and messages flow. */
  consuming = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly ingest: EventIngest,
    private readonly options: JetStreamDeliveryOptions,
  ) {}

  /** Sets up the stream and consumer (retrying until they can be) and starts consuming. */
  async start(): Promise<void> {
    while (!this.isStopped()) {
      try {
        await this.setUp();
        return;
      } catch (err) {
        if (this.isStopped()) return;
        const retryMs = this.options.retryMs ?? DEFAULT_RETRY_MS;
        this.options.logger.error(
          { stream: this.options.settings.stream, err: errorMessage(err) },
          `JetStream set-up failed, retrying in ${retryMs / 1000} s`,
        );
        await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
      }
    }
  }

  /**
   * After a reconnection: deliveries may have been lost on the way, and would
   * come back only after the acknowledgement wait; take them again at once.
   */
  reconnected(): void {
    if (this.consuming) this.restartFromFirstUnacknowledged('reconnected');
  }

  private isStopped(): boolean {
    return this.stopped;
  }

  /** Stops pulling, then waits (bounded) for handed messages to be applied and acknowledged. */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.stopped = true;
    this.consuming = false;
    this.messages?.stop();
    if (this.pendingCount === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async setUp(): Promise<void> {
    const { settings, prefix, logger } = this.options;
    const jsm = await this.nc.jetstreamManager();
    try {
      await jsm.streams.info(settings.stream);
    } catch (err) {
      if (apiErrorCode(err) !== JETSTREAM_NOT_FOUND) throw err;
      if (!settings.createStream) {
        throw new JetStreamSetupError(
          'STREAM_NOT_FOUND',
          `stream ${settings.stream} does not exist: create it on ${streamSubjects(prefix).join(' and ')} ` +
            'or pass --nats.create-stream',
        );
      }
      await jsm.streams.add({
        name: settings.stream,
        subjects: streamSubjects(prefix),
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: nanos(settings.streamMaxAgeMs),
      });
      logger.info({ stream: settings.stream, subjects: streamSubjects(prefix) }, 'created stream');
    }

    let info: ConsumerInfo | undefined;
    try {
      info = await jsm.consumers.info(settings.stream, settings.durable);
    } catch (err) {
      if (apiErrorCode(err) !== CONSUMER_NOT_FOUND) throw err;
    }
    if (info === undefined) {
      await jsm.consumers.add(settings.stream, this.consumerConfig(DeliverPolicy.All));
    } else {
      // In this process our own count is right: an acknowledgement may still be on its way.
      this.ackedThrough = Math.max(this.ackedThrough, info.ack_floor.stream_seq);
      // Messages a stopped (or killed) process left unacknowledged would come back
      // only after the acknowledgement wait, behind newer ones: start from them.
      if (info.num_ack_pending > 0) await this.recreateConsumer(jsm, this.ackedThrough + 1);
      else {
        await jsm.consumers.update(settings.stream, settings.durable, {
          ack_wait: nanos(this.ackWaitMs),
          max_ack_pending: settings.maxInFlight,
        });
      }
    }
    await this.consume();
    logger.info(
      { stream: settings.stream, durable: settings.durable, from: this.ackedThrough + 1 },
      'consuming JetStream',
    );
  }

  private get ackWaitMs(): number {
    return this.options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
  }

  private consumerConfig(deliver: DeliverPolicy, startSeq?: number): Partial<ConsumerConfig> {
    return {
      durable_name: this.options.settings.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: deliver,
      ...(startSeq === undefined ? {} : { opt_start_seq: startSeq }),
      ack_wait: nanos(this.ackWaitMs),
      max_ack_pending: this.options.settings.maxInFlight,
    };
  }

  /** Replaces the durable consumer by one that starts at this stream sequence. */
  private async recreateConsumer(jsm: JetStreamManager, startSeq: number): Promise<void> {
    const { stream, durable } = this.options.settings;
    try {
      await jsm.consumers.delete(stream, durable);
    } catch (err) {
      if (apiErrorCode(err) !== CONSUMER_NOT_FOUND) throw err;
    }
    await jsm.consumers.add(stream, this.consumerConfig(DeliverPolicy.StartSequence, startSeq));
    this.restarts += 1;
  }

  private async consume(): Promise<void> {
    const { settings } = this.options;
    const consumer = await this.nc.jetstream().consumers.get(settings.stream, settings.durable);
    this.lastDelivery = 0;
    const generation = ++this.generation;
    this.messages = await consumer.consume({
      max_messages: Math.min(settings.maxInFlight, 1_000),
      // A callback runs in delivery order, synchronously: the order of the stream.
      callback: (msg) => {
        if (generation === this.generation) this.receive(msg);
      },
    });
    this.consuming = true;
    void this.watch(this.messages);
  }

  private restartFromFirstUnacknowledged(why: string): void {
    if (this.restarting !== undefined || this.isStopped()) return;
    const from = this.ackedThrough + 1;
    this.options.logger.info(
      { from, why },
      'JetStream: consuming again from the first unacknowledged message',
    );
    this.messages?.stop();
    this.generation += 1;
    this.restarting = (async () => {
      try {
        await this.recreateConsumer(await this.nc.jetstreamManager(), from);
        if (!this.isStopped()) await this.consume();
      } catch (err) {
        this.options.logger.error(
          { err: errorMessage(err) },
          'JetStream: cannot recreate the consumer, retrying',
        );
        this.consuming = false;
        await this.start();
      } finally {
        this.restarting = undefined;
      }
    })();
  }

  private receive(msg: JsMsg): void {
    const delivery = msg.info.deliverySequence;
    if (this.lastDelivery !== 0 && delivery > this.lastDelivery + 1) {
      this.restartFromFirstUnacknowledged(
        `deliveries ${this.lastDelivery + 1}-${delivery - 1} lost`,
      );
      return;
    }
    if (delivery > this.lastDelivery) this.lastDelivery = delivery;

    const seq = msg.seq;
    if (seq <= this.ackedThrough) {
      // Applied and acknowledged already; that acknowledgement was lost on the way.
      this.duplicatesSkipped += 1;
      msg.ack();
      return;
    }
    const entry: PendingMessage = { seq, msg, settled: false };
    const pending = this.pending;
    const last = pending.length > this.head ? pending[pending.length - 1] : undefined;
    if (last === undefined || seq > last.seq) pending.push(entry);
    else {
      // Not after the last one handed: a redelivery (skipped), or a message that
      // overtook nothing lost (kept in order, so acknowledgements stay in order).
      const at = this.indexOf(seq);
      const known = pending[at];
      if (known?.seq === seq) {
        this.duplicatesSkipped += 1;
        known.msg = msg;
        if (known.settled) this.acknowledgeInOrder();
        return;
      }
      pending.splice(at, 0, entry);
    }

    const route = this.route(msg.subject);
    if (route === undefined) {
      // Not one of our subjects (a wider stream): nothing to apply.
      entry.settled = true;
      this.acknowledgeInOrder();
      return;
    }
    this.ingest.handleParts(
      route.node,
      route.subject,
      msg.data,
      msg.info.timestampNanos / 1e6,
      this.settler(entry),
    );
  }

  /** Marks the message settled once applied (a closure per message stays cheap). */
  private settler(entry: PendingMessage): () => void {
    return () => {
      entry.settled = true;
      this.acknowledgeInOrder();
    };
  }

  /** Acknowledges the settled messages at the head of the stream order. */
  private acknowledgeInOrder(): void {
    const pending = this.pending;
    let head = this.head;
    while (head < pending.length) {
      const entry = pending[head] as PendingMessage;
      if (!entry.settled) break;
      entry.msg.ack();
      this.ackedThrough = entry.seq;
      head += 1;
    }
    if (head === pending.length) {
      this.pending = [];
      this.head = 0;
      this.drained?.();
    } else if (head > 1_024 && head * 2 > pending.length) {
      // Drop the acknowledged front now and then, not at every message.
      this.pending = pending.slice(head);
      this.head = 0;
    } else {
      this.head = head;
    }
  }

  private get pendingCount(): number {
    return this.pending.length - this.head;
  }

  /** Index of the first pending message with a sequence at or after seq (binary search). */
  private indexOf(seq: number): number {
    let lo = this.head;
    let hi = this.pending.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.pending[mid] as PendingMessage).seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The node and kind of a subject; a stream has a few subjects, each parsed once. */
  private route(subject: string): Route | undefined {
    let route = this.routes.get(subject);
    if (route === undefined) {
      route = parseRoute(this.options.prefix, subject);
      // Bounded: a stream wider than ours could carry any number of subjects.
      if (this.routes.size >= MAX_ROUTES) this.routes.clear();
      this.routes.set(subject, route);
    }
    return route ?? undefined;
  }

  private async watch(messages: ConsumerMessages): Promise<void> {
    for await (const status of await messages.status()) {
      this.options.logger.debug(
        { type: status.type, data: status.data },
        'JetStream consumer status',
      );
    }
  }
}

/** `<prefix>.<node>.channel_events|peer_events`, or null for any other subject. */
function parseRoute(prefix: string, subject: string): Route | null {
  if (!subject.startsWith(prefix) || subject.charCodeAt(prefix.length) !== 46 /* . */) {
    return null;
  }
  const rest = subject.slice(prefix.length + 1);
  const dot = rest.indexOf('.');
  if (dot <= 0) return null;
  const kind = rest.slice(dot + 1);
  if (kind !== 'channel_events' && kind !== 'peer_events') return null;
  return { node: rest.slice(0, dot), subject: kind };
}

function apiErrorCode(err: unknown): number | undefined {
  const api = (err as { api_error?: { err_code?: number } }).api_error;
  return api?.err_code;
}

import type { ConsumerInfo, ConsumerMessages, JsMsg, NatsConnection } from 'nats';
import { systemScheduler, type Scheduler } from '../clock.js';
import type { JetStreamSettings } from '../config/settings.js';
import { errorMessage } from '../errors.js';
import type { EventIngest, EventSubject } from '../ingest/event-ingest.js';
import type { Logger } from '../log/logger.js';
import { ConsumerSetup } from './jetstream-consumer.js';
import { OrderedAcks, readDelivery, type AckSubjectFields } from './ordered-acks.js';

const DEFAULT_ACK_WAIT_MS = 30_000;
const DEFAULT_RETRY_MS = 5_000;
/** Subjects whose route is remembered, at most. */
const MAX_ROUTES = 10_000;

interface Route {
  readonly node: string;
  readonly subject: EventSubject;
}

export interface JetStreamDeliveryOptions {
  readonly settings: JetStreamSettings;
  readonly prefix: string;
  readonly logger: Logger;
  /** How long the server waits for an acknowledgement before redelivering (ms). */
  readonly ackWaitMs?: number;
  /** How long to wait before retrying a failed set-up (ms). */
  readonly retryMs?: number;
  /**
   * The restored history includes every message up to this stream sequence:
   * the consumer is recreated to start right after it, whatever it had
   * acknowledged (a crash leaves acknowledged messages the history lacks).
   */
  readonly resumeAfter?: number;
  /** The set-up's retry waits and the stop's bound; the system scheduler by default. */
  readonly clock?: Scheduler;
}

/**
 * Durable JetStream delivery (SPEC 3.5): a durable pull consumer on the stream;
 * a message is acknowledged only once the store has applied (or rejected) it,
 * so nothing published while the exporter was down or disconnected is lost;
 * unacknowledged messages are bounded by max_ack_pending.
 *
 * Order and exactly-once matter (a late open would make the peer events
 * after it count nothing), so:
 * - messages are acknowledged in stream order only, one acknowledgement per
 *   batch of deliveries (OrderedAcks);
 * - a delivery lost in transit (a network blip, a NATS restart) shows as a gap
 *   in the consumer's delivery sequence: its message would come back only after
 *   the acknowledgement wait, behind later ones, so the consumer is recreated
 *   from the first unacknowledged message instead (also at start and after a
 *   reconnection, when messages wait unacknowledged on the server: ConsumerSetup);
 * - a message already handed to the store in this process is never handed
 *   again: its redelivery only replaces the delivery that will be acknowledged.
 *
 * One process per durable: a second one would have its consumer recreated
 * under it, and its unapplied messages covered by the other's acknowledgements.
 */
export class JetStreamDelivery {
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  private readonly clock: Scheduler;
  private readonly setup: ConsumerSetup;
  private readonly acks: OrderedAcks;
  /** Fields of the reply subject of the message at hand (one object, reused). */
  private readonly fields: AckSubjectFields = { seq: 0, delivery: 0, timeMs: 0, pending: -1 };
  /**
   * Messages the consumer had left after the last one received (from its
   * reply subject), or from the consumer's info before any: -1 while unknown.
   */
  private streamPending = -1;
  /** Messages received on the current consumer (its info's count is older than any of them). */
  private received = 0;
  /** Delivery sequence of the last message of the current consumer; 0 for a new one. */
  private lastDelivery = 0;
  private restarting: Promise<void> | undefined;
  /** Routes of the subjects seen; null for a subject that is not ours. */
  private readonly routes = new Map<string, Route | null>();
  /** True once the consumer is set up and messages flow. */
  consuming = false;

  private resumeAfter: number | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly ingest: EventIngest,
    private readonly options: JetStreamDeliveryOptions,
  ) {
    this.resumeAfter = options.resumeAfter;
    this.clock = options.clock ?? systemScheduler;
    this.setup = new ConsumerSetup({
      settings: options.settings,
      prefix: options.prefix,
      logger: options.logger,
      ackWaitMs: options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
    });
    this.acks = new OrderedAcks(nc);
  }

  /** Deliveries of messages already handed over (redeliveries), not applied again. */
  get duplicatesSkipped(): number {
    return this.acks.duplicatesSkipped;
  }

  /** Times the consumer was recreated from the first unacknowledged message. */
  get restarts(): number {
    return this.setup.restarts;
  }

  /**
   * True while the consumer has delivered everything the stream holds: event
   * time has caught up with the clock, so that what the clock says (a node's
   * silence, the end of a gap) holds for the stream's time too. False while
   * a backlog is replayed.
   */
  get caughtUp(): boolean {
    return this.consuming && this.streamPending === 0;
  }

  /** Every stream sequence up to this one is applied (or was, before this process). */
  appliedThrough(): number {
    return this.acks.ackedThrough;
  }

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
        await this.clock.sleep(retryMs, { unref: true });
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
    await this.acks.drain(this.clock, timeoutMs);
  }

  private async setUp(): Promise<void> {
    const { settings, logger } = this.options;
    const jsm = await this.nc.jetstreamManager();
    this.streamPending = -1;
    await this.setup.ensureStream(jsm);
    const resumeAfter = this.resumeAfter;
    if (resumeAfter !== undefined) {
      // Once: a later set-up (after a failure) resumes from what this process applied.
      this.resumeAfter = undefined;
      this.acks.ackedThrough = resumeAfter;
    }
    this.acks.ackedThrough = await this.setup.ensureConsumer(
      jsm,
      this.acks.ackedThrough,
      resumeAfter,
    );
    await this.consume();
    logger.info(
      { stream: settings.stream, durable: settings.durable, from: this.acks.ackedThrough + 1 },
      'consuming JetStream',
    );
  }

  private async consume(): Promise<void> {
    const { settings } = this.options;
    const consumer = await this.nc.jetstream().consumers.get(settings.stream, settings.durable);
    this.lastDelivery = 0;
    const generation = this.acks.newConsumer();
    this.messages = await consumer.consume({
      max_messages: Math.min(settings.maxInFlight, 1_000),
      // A callback runs in delivery order, synchronously: the order of the stream.
      callback: (msg) => {
        if (generation === this.acks.generation) this.receive(msg);
      },
    });
    this.consuming = true;
    void this.watch(this.messages);
    void this.readPending(consumer, generation);
  }

  /** What the consumer holds before its first message: is there a backlog to replay? */
  private async readPending(
    consumer: { info(cached?: boolean): Promise<ConsumerInfo> },
    generation: number,
  ): Promise<void> {
    const before = this.received;
    try {
      const info = await consumer.info();
      // A message received meanwhile said it more recently.
      if (generation === this.acks.generation && this.received === before) {
        this.streamPending = info.num_pending;
      }
    } catch (err) {
      this.options.logger.debug({ err: errorMessage(err) }, 'JetStream consumer info failed');
    }
  }

  private restartFromFirstUnacknowledged(why: string): void {
    if (this.restarting !== undefined || this.isStopped()) return;
    const from = this.acks.ackedThrough + 1;
    this.options.logger.info(
      { from, why },
      'JetStream: consuming again from the first unacknowledged message',
    );
    this.messages?.stop();
    this.acks.retireConsumer();
    this.restarting = (async () => {
      try {
        await this.setup.recreate(await this.nc.jetstreamManager(), from);
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
    const fields = this.fields;
    const reply = readDelivery(msg, fields);
    const { seq, delivery } = fields;
    this.received += 1;
    if (fields.pending >= 0) this.streamPending = fields.pending;
    if (this.lastDelivery !== 0 && delivery > this.lastDelivery + 1) {
      this.restartFromFirstUnacknowledged(
        `deliveries ${this.lastDelivery + 1}-${delivery - 1} lost`,
      );
      return;
    }
    if (delivery > this.lastDelivery) this.lastDelivery = delivery;

    const entry = this.acks.take(seq, reply, delivery);
    // Handed to the store already: only its acknowledgement is this delivery's.
    if (entry === undefined) return;
    const route = this.route(msg.subject);
    if (route === undefined) {
      // Not one of our subjects (a wider stream): nothing to apply.
      this.acks.settle(entry);
      return;
    }
    this.ingest.handleParts(
      route.node,
      route.subject,
      msg.data,
      fields.timeMs,
      this.acks.settler(entry),
      seq,
    );
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

/** `<prefix>.<node>.channel_events|peer_events|status`, or null for any other subject. */
function parseRoute(prefix: string, subject: string): Route | null {
  if (!subject.startsWith(prefix) || subject.charCodeAt(prefix.length) !== 46 /* . */) {
    return null;
  }
  const rest = subject.slice(prefix.length + 1);
  const dot = rest.indexOf('.');
  if (dot <= 0) return null;
  const kind = rest.slice(dot + 1);
  if (kind !== 'channel_events' && kind !== 'peer_events' && kind !== 'status') return null;
  return { node: rest.slice(0, dot), subject: kind };
}

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
  type StreamConfig,
} from 'nats';
import type { JetStreamSettings } from '../config/settings.js';
import { describeSetting } from '../config/settings-reader.js';
import { CodedError, errorMessage } from '../errors.js';
import type { EventIngest, EventSubject } from '../ingest/event-ingest.js';
import type { Logger } from '../log/logger.js';

const DEFAULT_ACK_WAIT_MS = 30_000;
const DEFAULT_RETRY_MS = 5_000;
const JETSTREAM_NOT_FOUND = 10059; // stream not found
const CONSUMER_NOT_FOUND = 10014;
/** The payload of an acknowledgement. */
const ACK = new Uint8Array([0x2b, 0x41, 0x43, 0x4b]); // +ACK
/** Subjects whose route is remembered, at most. */
const MAX_ROUTES = 10_000;

interface Route {
  readonly node: string;
  readonly subject: EventSubject;
}

export class JetStreamSetupError extends CodedError<'STREAM_NOT_FOUND' | 'JETSTREAM_SETUP'> {}

/**
 * The consumer's filter: the three-token subjects of the prefix, so that a
 * stream wider than ours (`<prefix>.>`) does not deliver the bootstrap requests
 * or anything else deeper; one filter (nats-server 2.9 has no filter list),
 * wider than each of our stream's two subjects, which the server accepts.
 */
export function consumerFilter(prefix: string): string {
  return `${prefix}.*.*`;
}

/** The subjects a stream of lnd events holds (never `<prefix>.>`: see streamSubjects). */
export function streamSubjects(prefix: string): string[] {
  // A stream on `<prefix>.>` would also capture the bootstrap requests to
  // `<prefix>.<node>.rpc.*` and answer them with its publish acknowledgement.
  return [`${prefix}.*.channel_events`, `${prefix}.*.peer_events`, `${prefix}.*.status`];
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
}

/**
 * Where a delivery's acknowledgement goes: its reply subject, kept rather than
 * the message (whose data pins the socket's read buffer while it waits), or
 * the message itself should the client library not expose the subject.
 */
type AckTarget = string | JsMsg;

/** The reply subject of a delivery: nats.js's JsMsgImpl has it, its JsMsg interface does not name it. */
function ackTarget(msg: JsMsg): AckTarget {
  const reply = (msg as { readonly reply?: unknown }).reply;
  return typeof reply === 'string' ? reply : msg;
}

interface PendingMessage {
  readonly seq: number;
  /** The latest delivery of the message: the one an acknowledgement goes to (see ackTarget). */
  reply: AckTarget;
  /** Delivery sequence of that delivery, on the consumer of `generation`. */
  delivery: number;
  generation: number;
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
 *   consumer's acknowledgement floor is unapplied or in this process's hands.
 *   The consumer's ack policy is `all` (an acknowledgement covers every message
 *   up to its stream sequence, which in-order acknowledgement makes exact), so
 *   one acknowledgement, of the last applied message of an unbroken run, is
 *   sent per batch of deliveries instead of one per message;
 * - a delivery lost in transit (a network blip, a NATS restart) shows as a gap
 *   in the consumer's delivery sequence: its message would come back only after
 *   the acknowledgement wait, behind later ones, so the consumer is recreated
 *   from the first unacknowledged message instead (also at start and after a
 *   reconnection, when messages wait unacknowledged on the server);
 * - a message already handed to the store in this process is never handed
 *   again: its redelivery only replaces the delivery that will be acknowledged.
 *
 * One process per durable: a second one would have its consumer recreated
 * under it, and its unapplied messages covered by the other's acknowledgements.
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
  /**
   * Every stream sequence up to this one is applied, and acknowledged or about
   * to be (or was acknowledged before this process).
   */
  private ackedThrough = 0;
  /**
   * The acknowledgement to send at the end of the current batch of deliveries:
   * the reply subject of the last message of the applied run, if the server
   * will take it (see offerAck()).
   */
  private ackReply: AckTarget | undefined;
  private ackSeq = 0;
  private ackDelivery = 0;
  private ackGeneration = 0;
  private ackScheduled = false;
  /**
   * Delivery sequence of the last acknowledgement sent on the current consumer:
   * the server ignores an ack-all whose delivery sequence is not above it.
   */
  private ackedDelivery = 0;
  /** Fields of the reply subject of the message at hand (one object, reused). */
  private readonly fields: AckSubjectFields = { seq: 0, delivery: 0, timeMs: 0, pending: -1 };
  /**
   * Messages the consumer had left after the last one received (from its
   * reply subject), or from the consumer's info before any: -1 while unknown.
   */
  private streamPending = -1;
  /** Messages received on the current consumer (its info's count is older than any of them). */
  private received = 0;
  private readonly flushAck = (): void => {
    this.sendAck();
  };
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

  private resumeAfter: number | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly ingest: EventIngest,
    private readonly options: JetStreamDeliveryOptions,
  ) {
    this.resumeAfter = options.resumeAfter;
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
    return this.ackedThrough;
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
    this.sendAck();
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
    this.streamPending = -1;
    try {
      const stream = await jsm.streams.info(settings.stream);
      await this.addMissingSubjects(jsm, stream.config);
    } catch (err) {
      if (apiErrorCode(err) !== JETSTREAM_NOT_FOUND) throw err;
      if (!settings.createStream) {
        throw new JetStreamSetupError(
          'STREAM_NOT_FOUND',
          `stream ${settings.stream} does not exist: create it on ${streamSubjects(prefix).join(' and ')} ` +
            `or pass ${describeSetting('nats.create-stream')}`,
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
    const resumeAfter = this.resumeAfter;
    if (resumeAfter !== undefined) {
      // Once: a later set-up (after a failure) resumes from what this process applied.
      this.resumeAfter = undefined;
      this.ackedThrough = resumeAfter;
      await this.recreateConsumer(jsm, resumeAfter + 1);
    } else if (info === undefined) {
      await jsm.consumers.add(settings.stream, this.consumerConfig(DeliverPolicy.All));
    } else {
      // In this process our own count is right: an acknowledgement may still be on its way.
      this.ackedThrough = Math.max(this.ackedThrough, info.ack_floor.stream_seq);
      // Messages a stopped (or killed) process left unacknowledged would come back
      // only after the acknowledgement wait, behind newer ones: start from them.
      // A consumer of an earlier version (explicit acknowledgement, no filter)
      // is replaced the same way: the server updates neither its ack policy nor
      // (before 2.10, safely) its filter, and from the first unacknowledged
      // message on nothing is lost or applied twice.
      if (info.num_ack_pending > 0 || !this.isOurs(info.config)) {
        await this.recreateConsumer(jsm, this.ackedThrough + 1);
      } else {
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

  /**
   * A stream made before node statuses existed holds only the event
   * subjects: the status subject is added when this exporter manages the
   * stream (--nats.create-stream), else the operator is told.
   */
  private async addMissingSubjects(jsm: JetStreamManager, config: StreamConfig): Promise<void> {
    const { settings, prefix, logger } = this.options;
    // A mirror or a sourced stream has no subjects of its own, whatever the type says.
    const subjects: readonly string[] = Array.isArray(config.subjects) ? config.subjects : [];
    const missing = streamSubjects(prefix).filter((subject) => !subjects.includes(subject));
    if (missing.length === 0 || subjects.includes(`${prefix}.>`)) return;
    if (!settings.createStream) {
      logger.warn(
        { stream: settings.stream, missing },
        `stream ${settings.stream} does not hold ${missing.join(' and ')}: add it (or pass ` +
          `${describeSetting('nats.create-stream')}), else those messages are not consumed`,
      );
      return;
    }
    await jsm.streams.update(settings.stream, { ...config, subjects: [...subjects, ...missing] });
    logger.info({ stream: settings.stream, added: missing }, 'added subjects to the stream');
  }

  private get ackWaitMs(): number {
    return this.options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
  }

  /** Whether an existing consumer acknowledges and filters as ours do. */
  private isOurs(config: ConsumerConfig): boolean {
    return (
      config.ack_policy === AckPolicy.All &&
      config.filter_subject === consumerFilter(this.options.prefix)
    );
  }

  private consumerConfig(deliver: DeliverPolicy, startSeq?: number): Partial<ConsumerConfig> {
    return {
      durable_name: this.options.settings.durable,
      ack_policy: AckPolicy.All,
      filter_subject: consumerFilter(this.options.prefix),
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
    this.ackedDelivery = 0;
    this.ackReply = undefined;
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
      if (generation === this.generation && this.received === before) {
        this.streamPending = info.num_pending;
      }
    } catch (err) {
      this.options.logger.debug({ err: errorMessage(err) }, 'JetStream consumer info failed');
    }
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
    const fields = this.fields;
    const reply = ackTarget(msg);
    if (typeof reply !== 'string' || !parseAckSubject(reply, fields)) {
      // Not the reply subject this parser knows: the client library's reading of it.
      const { info } = msg;
      fields.seq = info.streamSequence;
      fields.delivery = info.deliverySequence;
      fields.timeMs = info.timestampNanos / 1e6;
      fields.pending = info.pending;
    }
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

    if (seq <= this.ackedThrough) {
      // Applied already; the acknowledgement that covered it was lost on the way.
      this.duplicatesSkipped += 1;
      this.offerAck(seq, reply, delivery);
      return;
    }
    const generation = this.generation;
    const pending = this.pending;
    const last = pending.length > this.head ? pending[pending.length - 1] : undefined;
    let entry: PendingMessage;
    if (last === undefined || seq > last.seq) {
      entry = { seq, reply, delivery, generation, settled: false };
      pending.push(entry);
    } else {
      // Not after the last one handed: a redelivery (skipped), or a message that
      // overtook nothing lost (kept in order, so acknowledgements stay in order).
      const at = this.indexOf(seq);
      const known = pending[at];
      if (known?.seq === seq) {
        this.duplicatesSkipped += 1;
        known.reply = reply;
        known.delivery = delivery;
        known.generation = generation;
        if (known.settled) this.acknowledgeInOrder();
        return;
      }
      entry = { seq, reply, delivery, generation, settled: false };
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
      fields.timeMs,
      this.settler(entry),
      seq,
    );
  }

  /** Marks the message settled once applied (a closure per message stays cheap). */
  private settler(entry: PendingMessage): () => void {
    return () => {
      entry.settled = true;
      this.acknowledgeInOrder();
    };
  }

  /** Takes the settled messages off the head of the stream order, and acknowledges through the last. */
  private acknowledgeInOrder(): void {
    const pending = this.pending;
    let head = this.head;
    while (head < pending.length) {
      const entry = pending[head] as PendingMessage;
      if (!entry.settled) break;
      this.offerAck(entry.seq, entry.reply, entry.delivery, entry.generation);
      this.ackedThrough = entry.seq;
      head += 1;
    }
    if (head === pending.length) {
      this.pending = [];
      this.head = 0;
      if (this.drained !== undefined) {
        // Stopping: the acknowledgement goes now, before the connection is drained.
        this.sendAck();
        this.drained();
      }
    } else if (head > 1_024 && head * 2 > pending.length) {
      // Drop the acknowledged front now and then, not at every message.
      this.pending = pending.slice(head);
      this.head = 0;
    } else {
      this.head = head;
    }
  }

  /**
   * Makes this applied message (everything up to it in the stream is applied)
   * the one to acknowledge at the end of the batch, if the server will take its
   * acknowledgement: a delivery of the current consumer (the recreated consumer
   * has the same ack subjects, and an older delivery's sequence would mislead
   * it), with a delivery sequence above the last acknowledged one (an ack-all
   * below it is ignored: after a redelivery, a message delivered before it is
   * acknowledged by a later acknowledgement or its own redelivery instead).
   * Messages are offered in stream order, so the latest offer covers the most.
   */
  private offerAck(
    seq: number,
    reply: AckTarget,
    delivery: number,
    generation = this.generation,
  ): void {
    if (generation !== this.generation || delivery <= this.ackedDelivery) return;
    if (this.ackReply !== undefined && seq < this.ackSeq) return;
    this.ackReply = reply;
    this.ackSeq = seq;
    this.ackDelivery = delivery;
    this.ackGeneration = generation;
    if (!this.ackScheduled) {
      this.ackScheduled = true;
      // After the deliveries of the data read from the socket: one acknowledgement for them all.
      queueMicrotask(this.flushAck);
    }
  }

  private sendAck(): void {
    this.ackScheduled = false;
    const reply = this.ackReply;
    if (reply === undefined) return;
    this.ackReply = undefined;
    // A consumer replaced meanwhile has the same ack subjects: not for it.
    if (this.ackGeneration !== this.generation) return;
    this.ackedDelivery = this.ackDelivery;
    if (typeof reply === 'string') this.nc.publish(reply, ACK);
    else reply.ack();
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

/** What a JetStream message's reply subject says of it. */
export interface AckSubjectFields {
  /** Stream sequence. */
  seq: number;
  /** Delivery sequence of the consumer. */
  delivery: number;
  /** When the stream stored the message (ms since the epoch, to the nanosecond as far as a double holds it). */
  timeMs: number;
  /** Messages the consumer has left after this one; -1 when the subject does not say. */
  pending: number;
}

/**
 * The head every reply subject of a consumer shares, up to `<delivered>`:
 * `$JS.ACK.[<domain>.<account hash>.]<stream>.<consumer>.`, once seen.
 */
let knownHead = '';

/**
 * Reads a JetStream reply subject into `fields`, allocating nothing:
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<dseq>.<nanos>.<pending>`, or
 * with `<domain>.<account hash>` after `$JS.ACK.` and a random token at the end
 * (the formats nats.js's JsMsg.info reads). False for any other subject.
 */
export function parseAckSubject(reply: string, fields: AckSubjectFields): boolean {
  let from: number;
  if (knownHead !== '' && reply.startsWith(knownHead)) from = knownHead.length;
  else {
    from = deliveredStart(reply);
    if (from < 0) return false;
    knownHead = reply.slice(0, from);
  }
  // <delivered>.<sseq>.<dseq>.<nanos>. from there.
  const seqFrom = reply.indexOf('.', from) + 1;
  const deliveryFrom = seqFrom === 0 ? 0 : reply.indexOf('.', seqFrom) + 1;
  const nanosFrom = deliveryFrom === 0 ? 0 : reply.indexOf('.', deliveryFrom) + 1;
  const nanosTo = nanosFrom === 0 ? -1 : reply.indexOf('.', nanosFrom);
  // Then <pending>, and a random token in the newer format: nothing more.
  const tail = nanosTo < 0 ? -1 : reply.indexOf('.', nanosTo + 1);
  if (nanosTo < 0 || (tail >= 0 && reply.indexOf('.', tail + 1) >= 0)) return false;
  const seq = digits(reply, seqFrom, deliveryFrom - 1);
  const delivery = digits(reply, deliveryFrom, nanosFrom - 1);
  // Nanoseconds since the epoch overflow a double's integers: milliseconds and the rest apart.
  const split = Math.max(nanosFrom, nanosTo - 6);
  const ms = split > nanosFrom ? digits(reply, nanosFrom, split) : 0;
  const subMs = digits(reply, split, nanosTo);
  if (seq < 0 || delivery < 0 || ms < 0 || subMs < 0) return false;
  fields.seq = seq;
  fields.delivery = delivery;
  fields.timeMs = ms + subMs / 1e6;
  fields.pending = digits(reply, nanosTo + 1, tail < 0 ? reply.length : tail);
  return true;
}

/**
 * Where `<delivered>` starts in a reply subject of one of the two formats
 * (9 tokens, or 11 to 12 with the domain and account hash), or -1.
 */
function deliveredStart(reply: string): number {
  if (!reply.startsWith('$JS.ACK.')) return -1;
  let dots = 0;
  let fourth = -1;
  let sixth = -1;
  for (let at = reply.indexOf('.'); at >= 0; at = reply.indexOf('.', at + 1)) {
    dots += 1;
    if (dots === 4) fourth = at;
    else if (dots === 6) sixth = at;
  }
  if (dots === 8) return fourth + 1;
  if (dots === 10 || dots === 11) return sixth + 1;
  return -1;
}

/** The decimal number in s[from, to); -1 if empty or not all digits. */
function digits(s: string, from: number, to: number): number {
  if (to <= from) return -1;
  let value = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
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

function apiErrorCode(err: unknown): number | undefined {
  const api = (err as { api_error?: { err_code?: number } }).api_error;
  return api?.err_code;
}

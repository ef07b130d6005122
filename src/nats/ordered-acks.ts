import type { JsMsg, NatsConnection } from 'nats';
import type { Scheduler } from '../clock.js';
import { later, settleWithin } from '../promises.js';

/** The payload of an acknowledgement. */
const ACK = new Uint8Array([0x2b, 0x41, 0x43, 0x4b]); // +ACK
/** Acknowledged entries dropped from the front of the pending list at once, at least. */
const COMPACT_AFTER = 1_024;

/**
 * Where a delivery's acknowledgement goes: its reply subject, kept rather than
 * the message (whose data pins the socket's read buffer while it waits), or
 * the message itself should the client library not expose the subject.
 */
export type AckTarget = string | JsMsg;

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
 * Reads a delivery into `fields` (from its reply subject, else from the client
 * library's reading of it) and says where its acknowledgement goes.
 */
export function readDelivery(msg: JsMsg, fields: AckSubjectFields): AckTarget {
  // nats.js's JsMsgImpl has the reply subject; its JsMsg interface does not name it.
  const reply = (msg as { readonly reply?: unknown }).reply;
  if (typeof reply === 'string' && parseAckSubject(reply, fields)) return reply;
  const { info } = msg;
  fields.seq = info.streamSequence;
  fields.delivery = info.deliverySequence;
  fields.timeMs = info.timestampNanos / 1e6;
  fields.pending = info.pending;
  return typeof reply === 'string' ? reply : msg;
}

/** A message handed to the store and not acknowledged yet. */
export interface PendingMessage {
  readonly seq: number;
  /** The latest delivery of the message: the one an acknowledgement goes to (see AckTarget). */
  reply: AckTarget;
  /** Delivery sequence of that delivery, on the consumer of `generation`. */
  delivery: number;
  generation: number;
  /** Applied or rejected by the store. */
  settled: boolean;
}

/**
 * JetStreamDelivery's acknowledgements, in stream order only: everything
 * above the consumer's acknowledgement floor is unapplied or in this
 * process's hands. The consumer's ack policy is `all` (an acknowledgement
 * covers every message up to its stream sequence, which in-order
 * acknowledgement makes exact), so one acknowledgement, of the last applied
 * message of an unbroken run, is sent per batch of deliveries (at the end of
 * the microtasks of the data read from the socket) instead of one per message.
 * A message already handed to the store is never handed again: its
 * redelivery only replaces the delivery that will be acknowledged.
 */
export class OrderedAcks {
  /**
   * Every stream sequence up to this one is applied, and acknowledged or about
   * to be (or was acknowledged before this process).
   */
  ackedThrough = 0;
  /** Deliveries of messages already handed over (redeliveries), not applied again. */
  duplicatesSkipped = 0;
  /** Bumped for each consumer: deliveries of a replaced one are neither applied nor acknowledged. */
  generation = 0;
  /**
   * Handed to the store and not yet acknowledged, by ascending stream sequence,
   * from index `head` on (a queue: acknowledgements take from the front).
   */
  private pending: PendingMessage[] = [];
  private head = 0;
  /**
   * The acknowledgement to send at the end of the current batch of deliveries:
   * the reply subject of the last message of the applied run, if the server
   * will take it (see offer()).
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
  /** Stopping: told when nothing is pending any more. */
  private drained: (() => void) | undefined;
  private readonly flushAck = (): void => {
    this.send();
  };

  constructor(private readonly nc: Pick<NatsConnection, 'publish'>) {}

  /** Messages handed to the store and not acknowledged. */
  get pendingCount(): number {
    return this.pending.length - this.head;
  }

  /** A new consumer delivers from now on; returns its generation. */
  newConsumer(): number {
    this.ackedDelivery = 0;
    this.ackReply = undefined;
    return ++this.generation;
  }

  /** The current consumer is being replaced: its deliveries from now on count for nothing. */
  retireConsumer(): void {
    this.generation += 1;
  }

  /**
   * A delivery of stream sequence `seq`: the entry to hand to the store, or
   * undefined for a message handed already (its acknowledgement then goes to
   * this latest delivery).
   */
  take(seq: number, reply: AckTarget, delivery: number): PendingMessage | undefined {
    if (seq <= this.ackedThrough) {
      // Applied already; the acknowledgement that covered it was lost on the way.
      this.duplicatesSkipped += 1;
      this.offer(seq, reply, delivery, this.generation);
      return undefined;
    }
    const generation = this.generation;
    const pending = this.pending;
    const last = pending.length > this.head ? pending[pending.length - 1] : undefined;
    if (last === undefined || seq > last.seq) {
      const entry: PendingMessage = { seq, reply, delivery, generation, settled: false };
      pending.push(entry);
      return entry;
    }
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
      return undefined;
    }
    const entry: PendingMessage = { seq, reply, delivery, generation, settled: false };
    pending.splice(at, 0, entry);
    return entry;
  }

  /** The message is applied (or rejected, or not ours): acknowledged once all before it are. */
  settle(entry: PendingMessage): void {
    entry.settled = true;
    this.acknowledgeInOrder();
  }

  /** What settles the entry once applied (a closure per message stays cheap). */
  settler(entry: PendingMessage): () => void {
    return () => {
      this.settle(entry);
    };
  }

  /**
   * Sends the acknowledgement due now, then waits (at most `timeoutMs` of the
   * scheduler's time) for the messages handed to the store to be applied and
   * acknowledged.
   */
  async drain(clock: Scheduler, timeoutMs: number): Promise<void> {
    this.send();
    if (this.pendingCount === 0) return;
    const drained = later<undefined>();
    this.drained = () => {
      drained.resolve(undefined);
    };
    await settleWithin(clock, drained.promise, timeoutMs);
  }

  /** Takes the settled messages off the head of the stream order, and acknowledges through the last. */
  private acknowledgeInOrder(): void {
    const pending = this.pending;
    let head = this.head;
    while (head < pending.length) {
      const entry = pending[head] as PendingMessage;
      if (!entry.settled) break;
      this.offer(entry.seq, entry.reply, entry.delivery, entry.generation);
      this.ackedThrough = entry.seq;
      head += 1;
    }
    if (head === pending.length) {
      this.pending = [];
      this.head = 0;
      if (this.drained !== undefined) {
        // Stopping: the acknowledgement goes now, before the connection is drained.
        this.send();
        this.drained();
      }
    } else if (head > COMPACT_AFTER && head * 2 > pending.length) {
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
  private offer(seq: number, reply: AckTarget, delivery: number, generation: number): void {
    if (generation !== this.generation || delivery <= this.ackedDelivery) return;
    if (this.ackReply !== undefined && seq < this.ackSeq) return;
    this.ackReply = reply;
    this.ackSeq = seq;
    this.ackDelivery = delivery;
    this.ackGeneration = generation;
    if (!this.ackScheduled) {
      this.ackScheduled = true;
      // After the deliveries of the data read from the socket: one acknowledgement for them all.
      // A microtask, not a timer: it waits for no time, only for the batch.
      queueMicrotask(this.flushAck);
    }
  }

  private send(): void {
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

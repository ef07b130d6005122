import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
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

/**
 * Durable JetStream delivery (SPEC 3.5): a durable pull consumer on the stream;
 * a message is acknowledged only once the store has applied (or rejected) it,
 * so nothing published while the exporter was down or disconnected is lost;
 * unacknowledged messages are bounded by max_ack_pending. A redelivered message
 * is never applied twice: stream sequences handed to the store are remembered.
 */
export class JetStreamDelivery {
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  /** Highest stream sequence handed to the ingest in this process. */
  private handedSeq = 0;
  /** Sequences handed but not yet applied (waiting for a record read). */
  private readonly inFlight = new Set<number>();
  private inFlightDrained: (() => void) | undefined;
  /** Routes of the subjects seen; null for a subject that is not ours. */
  private readonly routes = new Map<string, Route | null>();
  /** Redeliveries skipped because the message had already been handed over. */
  duplicatesSkipped = 0;
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

  private isStopped(): boolean {
    return this.stopped;
  }

  /** Stops pulling, then waits (bounded) for handed messages to be applied and acknowledged. */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.stopped = true;
    this.consuming = false;
    this.messages?.stop();
    if (this.inFlight.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.inFlightDrained = () => {
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

    const config = {
      durable_name: settings.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(this.options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
      max_ack_pending: settings.maxInFlight,
    };
    try {
      await jsm.consumers.info(settings.stream, settings.durable);
      await jsm.consumers.update(settings.stream, settings.durable, {
        ack_wait: config.ack_wait,
        max_ack_pending: config.max_ack_pending,
      });
    } catch (err) {
      if (apiErrorCode(err) !== CONSUMER_NOT_FOUND) throw err;
      await jsm.consumers.add(settings.stream, config);
    }

    const consumer = await this.nc.jetstream().consumers.get(settings.stream, settings.durable);
    this.messages = await consumer.consume({
      max_messages: Math.min(settings.maxInFlight, 1_000),
      // A callback runs in delivery order, synchronously: the order of the stream.
      callback: (msg) => {
        this.receive(msg);
      },
    });
    this.consuming = true;
    logger.info({ stream: settings.stream, durable: settings.durable }, 'consuming JetStream');
    void this.watch(this.messages);
  }

  private receive(msg: JsMsg): void {
    const seq = msg.seq;
    if (seq <= this.handedSeq) {
      this.duplicatesSkipped += 1;
      // Still being applied: its first delivery will be acknowledged then.
      if (!this.inFlight.has(seq)) msg.ack();
      return;
    }
    this.handedSeq = seq;
    const route = this.route(msg.subject);
    if (route === undefined) {
      // Not one of our subjects (a wider stream): nothing to apply.
      msg.ack();
      return;
    }
    this.inFlight.add(seq);
    this.ingest.handleParts(
      route.node,
      route.subject,
      msg.data,
      msg.info.timestampNanos / 1e6,
      this.acknowledger(msg, seq),
    );
  }

  /** What acknowledges a message once applied (made here: a closure per message stays cheap). */
  private acknowledger(msg: JsMsg, seq: number): () => void {
    return () => {
      msg.ack();
      this.inFlight.delete(seq);
      if (this.inFlight.size === 0) this.inFlightDrained?.();
    };
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

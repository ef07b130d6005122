import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
} from 'nats';
import type { JetStreamSettings } from '../config/settings.js';
import { describeSetting } from '../config/settings-reader.js';
import { CodedError } from '../errors.js';
import type { Logger } from '../log/logger.js';

const JETSTREAM_NOT_FOUND = 10059; // stream not found
const CONSUMER_NOT_FOUND = 10014;

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

export interface ConsumerSetupOptions {
  readonly settings: JetStreamSettings;
  readonly prefix: string;
  readonly logger: Logger;
  /** How long the server waits for an acknowledgement before redelivering (ms). */
  readonly ackWaitMs: number;
}

/**
 * The stream and the durable consumer JetStreamDelivery consumes: the stream
 * created or given the subjects it lacks (when this exporter manages it), and
 * the consumer created, updated or recreated so that it delivers from the
 * first message this process has not applied (its resume point).
 */
export class ConsumerSetup {
  /** Times the consumer was recreated from a given stream sequence. */
  restarts = 0;

  constructor(private readonly options: ConsumerSetupOptions) {}

  /** The stream, created when it does not exist and --nats.create-stream allows it. */
  async ensureStream(jsm: JetStreamManager): Promise<void> {
    const { settings, prefix, logger } = this.options;
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
  }

  /**
   * The durable consumer, set to deliver from the first message not applied;
   * resolves with the stream sequence every message up to which is applied:
   * - `resumeAfter` (the restored history's): recreated to start right after it,
   *   whatever it had acknowledged (a crash leaves acknowledged messages the
   *   history lacks);
   * - no consumer yet: created from the start of the stream;
   * - else its acknowledgement floor, or `appliedThrough` (this process's own
   *   count, right while an acknowledgement may still be on its way) when higher.
   */
  async ensureConsumer(
    jsm: JetStreamManager,
    appliedThrough: number,
    resumeAfter: number | undefined,
  ): Promise<number> {
    const { settings } = this.options;
    let info: ConsumerInfo | undefined;
    try {
      info = await jsm.consumers.info(settings.stream, settings.durable);
    } catch (err) {
      if (apiErrorCode(err) !== CONSUMER_NOT_FOUND) throw err;
    }
    if (resumeAfter !== undefined) {
      await this.recreate(jsm, resumeAfter + 1);
      return resumeAfter;
    }
    if (info === undefined) {
      await jsm.consumers.add(settings.stream, this.config(DeliverPolicy.All));
      return appliedThrough;
    }
    const through = Math.max(appliedThrough, info.ack_floor.stream_seq);
    // Messages a stopped (or killed) process left unacknowledged would come back
    // only after the acknowledgement wait, behind newer ones: start from them.
    // A consumer of an earlier version (explicit acknowledgement, no filter)
    // is replaced the same way: the server updates neither its ack policy nor
    // (before 2.10, safely) its filter, and from the first unacknowledged
    // message on nothing is lost or applied twice.
    if (info.num_ack_pending > 0 || !this.isOurs(info.config)) {
      await this.recreate(jsm, through + 1);
    } else {
      await jsm.consumers.update(settings.stream, settings.durable, {
        ack_wait: nanos(this.options.ackWaitMs),
        max_ack_pending: settings.maxInFlight,
      });
    }
    return through;
  }

  /** Replaces the durable consumer by one that starts at this stream sequence. */
  async recreate(jsm: JetStreamManager, startSeq: number): Promise<void> {
    const { stream, durable } = this.options.settings;
    try {
      await jsm.consumers.delete(stream, durable);
    } catch (err) {
      if (apiErrorCode(err) !== CONSUMER_NOT_FOUND) throw err;
    }
    await jsm.consumers.add(stream, this.config(DeliverPolicy.StartSequence, startSeq));
    this.restarts += 1;
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

  /** Whether an existing consumer acknowledges and filters as ours do. */
  private isOurs(config: ConsumerConfig): boolean {
    return (
      config.ack_policy === AckPolicy.All &&
      config.filter_subject === consumerFilter(this.options.prefix)
    );
  }

  private config(deliver: DeliverPolicy, startSeq?: number): Partial<ConsumerConfig> {
    return {
      durable_name: this.options.settings.durable,
      ack_policy: AckPolicy.All,
      filter_subject: consumerFilter(this.options.prefix),
      deliver_policy: deliver,
      ...(startSeq === undefined ? {} : { opt_start_seq: startSeq }),
      ack_wait: nanos(this.options.ackWaitMs),
      max_ack_pending: this.options.settings.maxInFlight,
    };
  }
}

function apiErrorCode(err: unknown): number | undefined {
  const api = (err as { api_error?: { err_code?: number } }).api_error;
  return api?.err_code;
}

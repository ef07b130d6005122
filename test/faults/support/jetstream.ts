import {
  connect,
  type ConsumerInfo,
  type NatsConnection,
  type PubAck,
  type StreamInfo,
} from 'nats';
import { delay } from '../../support/eventually.js';

/**
 * A JetStream publisher that keeps trying through a NATS outage: each message
 * is published until the stream acknowledges it, always with the same
 * Nats-Msg-Id, so that an attempt stored before its acknowledgement was lost
 * is not stored twice (the retry comes back as a duplicate).
 */
export class ReliablePublisher {
  /** Publish attempts that failed (timeout, no JetStream, disconnected). */
  failedAttempts = 0;
  /** Retries the stream recognised as already stored. */
  duplicates = 0;
  acknowledged = 0;

  private constructor(readonly nc: NatsConnection) {}

  static async connect(url: string): Promise<ReliablePublisher> {
    const nc = await connect({
      servers: url,
      name: 'chanfitness-fault-publisher',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
      // A short ping keeps the outage detection quick.
      pingInterval: 1_000,
    });
    return new ReliablePublisher(nc);
  }

  /** Publishes until acknowledged; gives up (throws) only after `limitMs` of failures. */
  async publish(
    subject: string,
    payload: Uint8Array,
    msgID: string,
    limitMs = 30_000,
  ): Promise<PubAck> {
    const js = this.nc.jetstream();
    const deadline = Date.now() + limitMs;
    for (;;) {
      try {
        const ack = await js.publish(subject, payload, { msgID, timeout: 500 });
        if (ack.duplicate) this.duplicates += 1;
        this.acknowledged += 1;
        return ack;
      } catch (err) {
        this.failedAttempts += 1;
        if (Date.now() > deadline) throw err;
        await delay(50);
      }
    }
  }

  /**
   * Publishes many messages quickly while NATS is up: a window of publishes in flight
   * at once (one connection keeps their order), each with its message id.
   */
  async publishAll(
    messages: readonly { subject: string; payload: Uint8Array; msgID: string }[],
    window = 500,
  ): Promise<void> {
    const js = this.nc.jetstream();
    for (let i = 0; i < messages.length; i += window) {
      await Promise.all(
        messages
          .slice(i, i + window)
          .map((m) => js.publish(m.subject, m.payload, { msgID: m.msgID, timeout: 10_000 })),
      );
    }
    this.acknowledged += messages.length;
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }
}

/** A plain connection for the JetStream API (stream and consumer state). */
export async function jetStreamApi(url: string): Promise<JetStreamApi> {
  const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  return new JetStreamApi(nc);
}

export class JetStreamApi {
  constructor(readonly nc: NatsConnection) {}

  async stream(name: string): Promise<StreamInfo> {
    const jsm = await this.nc.jetstreamManager();
    return jsm.streams.info(name);
  }

  async consumer(stream: string, durable: string): Promise<ConsumerInfo> {
    const jsm = await this.nc.jetstreamManager();
    return jsm.consumers.info(stream, durable);
  }

  /** The consumer state, or undefined while the server cannot answer. */
  async tryConsumer(stream: string, durable: string): Promise<ConsumerInfo | undefined> {
    try {
      return await this.consumer(stream, durable);
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.close();
  }
}

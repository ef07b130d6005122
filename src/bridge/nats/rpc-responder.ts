import type { Msg, NatsConnection, Subscription } from 'nats';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { LndRestClient } from '../lnd/lnd-rest-client.js';

/** NATS's default max_payload, should the server not say. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;

/**
 * What the exporter reads of each entry, kept when lnd's full reply is over max_payload:
 * the bootstrap's keys, and lnd's own scores (a channel's `lifetime` and `uptime`, a
 * peer's `flap_count` and `last_flap_ns`).
 */
const SLIM_FIELDS = {
  channels: [
    'remote_pubkey',
    'channel_point',
    'chan_id',
    'active',
    'private',
    'initiator',
    'lifetime',
    'uptime',
  ],
  peers: ['pub_key', 'address', 'inbound', 'flap_count', 'last_flap_ns'],
} as const;

export interface RpcMethod {
  /** `list_channels` or `list_peers`: the last subject token. */
  readonly method: string;
  /** lnd's REST path, e.g. `v1/channels`. */
  readonly path: string;
  /** The reply's list field, `channels` or `peers`. */
  readonly listField: keyof typeof SLIM_FIELDS;
}

export const RPC_METHODS: readonly RpcMethod[] = [
  { method: 'list_channels', path: 'v1/channels', listField: 'channels' },
  { method: 'list_peers', path: 'v1/peers', listField: 'peers' },
];

export interface RpcResponderOptions {
  readonly nc: NatsConnection;
  readonly client: LndRestClient;
  /** `<prefix>.<node>.rpc` */
  readonly subjectBase: string;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Aborts lnd calls in flight at shutdown. */
  readonly signal: AbortSignal;
}

/**
 * Answers `<prefix>.<node>.rpc.list_channels` / `.list_peers` with lnd's
 * ListChannels / ListPeers JSON. When lnd fails, no reply is sent, so that the
 * exporter sees a timeout (a warning) rather than an empty node.
 */
export class RpcResponder {
  answered = 0;
  failed = 0;
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: RpcResponderOptions) {}

  start(): void {
    const { nc, subjectBase, logger } = this.options;
    for (const method of RPC_METHODS) {
      const subject = `${subjectBase}.${method.method}`;
      this.subscriptions.push(
        nc.subscribe(subject, {
          callback: (err, msg) => {
            if (err !== null) {
              logger.error({ subject, err: errorMessage(err) }, 'subscription error');
              return;
            }
            const answering = this.answer(method, subject, msg);
            this.inFlight.add(answering);
            void answering.finally(() => this.inFlight.delete(answering));
          },
        }),
      );
    }
  }

  /** Stops taking requests; waits for the answers in flight (their lnd calls are aborted by the signal). */
  async stop(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await Promise.allSettled([...this.inFlight]);
  }

  private async answer(method: RpcMethod, subject: string, msg: Msg): Promise<void> {
    const { nc, client, timeoutMs, logger, signal } = this.options;
    if (msg.reply === undefined || msg.reply === '') return;
    let body: Buffer;
    try {
      body = await client.get(method.path, timeoutMs, signal);
    } catch (err) {
      if (signal.aborted) return;
      this.failed++;
      logger.warn(
        { subject, path: method.path, err: errorMessage(err) },
        `cannot answer ${method.method}: lnd's call failed; no reply sent`,
      );
      return;
    }
    const maxPayload = nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD;
    let reply: Uint8Array | string = body;
    if (body.length > maxPayload) {
      reply = slim(body, method.listField);
      logger.warn(
        { subject, bytes: body.length, slimBytes: Buffer.byteLength(reply), maxPayload },
        `lnd's ${method.method} reply is over the NATS max_payload: replying with the fields the exporter needs`,
      );
    }
    try {
      msg.respond(reply);
      this.answered++;
      logger.debug({ subject, bytes: reply.length }, `answered ${method.method}`);
    } catch (err) {
      this.failed++;
      logger.error({ subject, err: errorMessage(err) }, `cannot answer ${method.method}`);
    }
  }
}

/** lnd's reply with only the bootstrap's fields of each list entry. */
export function slim(body: Buffer, listField: keyof typeof SLIM_FIELDS): string {
  const reply = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  const list = reply[listField];
  const entries = Array.isArray(list) ? (list as unknown[]) : [];
  const keep = SLIM_FIELDS[listField];
  return JSON.stringify({
    [listField]: entries.map((entry) => {
      if (typeof entry !== 'object' || entry === null) return entry;
      const record = entry as Record<string, unknown>;
      return Object.fromEntries(keep.filter((k) => k in record).map((k) => [k, record[k]]));
    }),
  });
}

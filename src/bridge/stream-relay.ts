import { systemScheduler, type Scheduler, type Timer } from '../clock.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { LndHttpError, lndStatus, type LndRestClient } from './lnd/lnd-rest-client.js';
import type { Publisher } from './nats/publisher.js';

export interface StreamRelayOptions {
  /** For logs: `channel events` or `peer events`. */
  readonly name: string;
  /** lnd's REST path, e.g. `v1/channels/subscribe`. */
  readonly path: string;
  /** NATS subject of the events, e.g. `lnd.mynode.channel_events`. */
  readonly subject: string;
  readonly client: LndRestClient;
  readonly publisher: Publisher;
  readonly logger: Logger;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  /** 0..1, jitter factor source; Math.random by default. */
  readonly random?: () => number;
  /**
   * How long lnd must hold a subscription without refusing it for the stream to
   * count as connected before its first event (lnd refuses within milliseconds). 1 s by default.
   */
  readonly acceptMs?: number;
  /** Told when the stream is accepted, fails, or is ended by lnd (see StreamRelay.health). */
  readonly onHealthChange?: (change: StreamHealthChange) => void;
  /** The acceptance timer and the backoff's waits; the system scheduler by default. */
  readonly clock?: Scheduler;
}

/**
 * - `starting`: not accepted yet since the relay started;
 * - `open`: accepted (open, or held by lnd for acceptMs), also while reopening after
 *   lnd ended it cleanly;
 * - `failing`: the last attempt failed (refused, unreachable, broken, or ended with
 *   lnd's error line) and none was accepted since.
 */
export type StreamHealth = 'starting' | 'open' | 'failing';
export type StreamHealthChange = 'accepted' | 'failed' | 'ended';

/**
 * Relays one of lnd's event streams to NATS: every object lnd streams is
 * published as it came, `{"result": …}` wrapper included, with a top-level
 * `"timestamp"` of its receipt added, so that the exporter times the event
 * right even when NATS or the exporter lags. The stream is reopened, with
 * exponential backoff, whenever it ends or fails; events lnd sends while it is
 * closed are missed (lnd keeps no history to replay).
 */
export class StreamRelay {
  /** Events published. */
  published = 0;
  /** Times the stream was opened (status 200). */
  opened = 0;
  /** Stream lines that were not lnd JSON objects. */
  malformed = 0;
  /** Why the stream is failing, for logs; undefined unless health is `failing`. */
  failure: string | undefined;
  private state: StreamHealth = 'starting';
  /** lnd sent an `{"error": …}` line on the current attempt. */
  private streamError = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(private readonly options: StreamRelayOptions) {}

  start(): void {
    this.loop ??= this.run();
  }

  get health(): StreamHealth {
    return this.state;
  }

  get name(): string {
    return this.options.name;
  }

  /** Closes the stream and stops reconnecting; resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { name, path, client, logger, retryMinMs, retryMaxMs } = this.options;
    const random = this.options.random ?? Math.random;
    const signal = this.abort.signal;
    const acceptMs = this.options.acceptMs ?? 1_000;
    const clock = this.options.clock ?? systemScheduler;
    let delayMs = retryMinMs;
    while (!signal.aborted) {
      // lnd's REST gateway sends the response headers only with the first event.
      logger.info({ path }, `subscribing to lnd ${name}`);
      let outcome: string;
      let severe = false;
      let failed: boolean;
      let acceptTimer: Timer | undefined;
      this.streamError = false;
      try {
        await client.stream(
          path,
          {
            onConnected: () => {
              acceptTimer = clock.after(acceptMs, () => {
                this.accepted();
              });
            },
            onOpen: () => {
              acceptTimer?.cancel();
              this.accepted();
              this.opened++;
              delayMs = retryMinMs;
              logger.debug({ path, subject: this.options.subject }, `lnd ${name} stream open`);
            },
            onLine: (line, receivedAt) => {
              this.relay(line, receivedAt);
            },
          },
          signal,
        );
        failed = this.endedWithError();
        outcome = failed ? 'lnd ended the stream with an error' : 'lnd ended the stream';
      } catch (err) {
        failed = true;
        outcome = describeFailure(err);
        // Refused credentials will not fix themselves: the operator must act.
        severe = err instanceof LndHttpError && isAuthFailure(err);
      } finally {
        acceptTimer?.cancel();
      }
      if (this.stopped()) break;
      if (failed) {
        this.failure = `lnd ${name}: ${outcome}`;
        if (this.state !== 'failing') {
          this.state = 'failing';
          this.options.onHealthChange?.('failed');
        }
      } else {
        // No failure (it is reopened), but worth a look at lnd: is it shutting down?
        this.options.onHealthChange?.('ended');
      }
      // Jitter (±20%) keeps many bridges from hammering an lnd that comes back.
      const waitMs = Math.round(delayMs * (0.8 + 0.4 * random()));
      logger[severe ? 'error' : 'warn'](
        { path, retryInMs: waitMs },
        `lnd ${name}: ${outcome}; reconnecting in ${(waitMs / 1000).toFixed(1)} s`,
      );
      await clock.sleep(waitMs, { signal });
      delayMs = Math.min(delayMs * 2, retryMaxMs);
    }
    logger.debug({ path }, `stopped relaying lnd ${name}`);
  }

  private accepted(): void {
    if (this.state === 'open' || this.stopped()) return;
    this.state = 'open';
    this.failure = undefined;
    this.options.onHealthChange?.('accepted');
  }

  /** A method, not the field inline: relay() sets it during the loop's await. */
  private endedWithError(): boolean {
    return this.streamError;
  }

  /** A method, not `signal.aborted` inline: the loop's awaits can abort it. */
  private stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private relay(line: string, receivedAt: number): void {
    const { name, subject, publisher, logger } = this.options;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.malformed++;
      logger.warn(
        { subject, line: line.slice(0, 200), malformed: this.malformed },
        `lnd ${name}: skipping a stream line that is not a JSON object`,
      );
      return;
    }
    const message = value as Record<string, unknown>;
    if (message.error !== undefined && message.result === undefined) {
      // The stream's last line when lnd fails it; the stream then ends and is reopened.
      this.streamError = true;
      const status = lndStatus(line);
      logger.error(
        { subject, grpcCode: status?.code, lndError: status?.message },
        `lnd ${name}: lnd reports a stream error`,
      );
      return;
    }
    publisher.publish(subject, withTimestamp(line, message, receivedAt));
    this.published++;
    logger.debug({ subject }, `relayed one of lnd's ${name}`);
  }
}

/**
 * The line with `"timestamp": <receipt>` added at its top level, leaving lnd's
 * JSON byte for byte as it came; a line that has a timestamp already is kept.
 */
export function withTimestamp(
  line: string,
  message: Record<string, unknown>,
  receivedAt: number,
): string {
  if (message.timestamp !== undefined) return line;
  const trimmed = line.trimEnd();
  const stamp = `"timestamp":${JSON.stringify(new Date(receivedAt).toISOString())}`;
  const empty = Object.keys(message).length === 0;
  return `${trimmed.slice(0, -1)}${empty ? '' : ','}${stamp}}`;
}

/** A log-ready reason why a subscription (or GetInfo) failed, with a hint where the fix is known. */
export function describeFailure(
  err: unknown,
  call: 'subscription' | 'GetInfo' = 'subscription',
): string {
  if (err instanceof LndHttpError) {
    const text = `lnd refused ${call === 'GetInfo' ? 'GetInfo' : 'the subscription'} (${err.message})`;
    const message = err.lndMessage ?? '';
    if (isAuthFailure(err)) {
      return `${text}: check --lnd.macaroon (it needs info:read, offchain:read and peers:read, as readonly.macaroon has)`;
    }
    if (/wallet locked|unlock|waiting to start|not yet ready|starting up/i.test(message)) {
      return `${text}: lnd is not ready (wallet locked or starting)`;
    }
    return text;
  }
  const code = (err as { code?: unknown }).code;
  const message = errorMessage(err);
  switch (code) {
    case 'ECONNREFUSED':
      return `cannot connect (${message}): is lnd running, and is --lnd.rest-url its restlisten address?`;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return `lnd's certificate is not trusted (${message}): pass lnd's tls.cert as --lnd.tls-cert`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return (
        `lnd's certificate does not name this host (${message}): connect by a name in it, ` +
        "or add one with lnd's tlsextradomain / tlsextraip and let lnd renew tls.cert"
      );
    case 'ENOENT':
    case 'EACCES':
      return `cannot read the macaroon or TLS cert (${message})`;
    default:
      return `${call === 'GetInfo' ? 'GetInfo' : 'the stream'} failed (${message})`;
  }
}

/** lnd refused the macaroon: missing, wrong, or without the permission. */
function isAuthFailure(err: LndHttpError): boolean {
  return (
    err.status === 401 ||
    err.status === 403 ||
    /macaroon|permission denied|verification failed/i.test(err.lndMessage ?? '')
  );
}

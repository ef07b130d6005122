import { connect, ErrorCode, Events, type ConnectionOptions, type NatsConnection } from 'nats';
import { systemScheduler, type Scheduler } from '../clock.js';
import { describeSetting as describe } from '../config/settings-reader.js';
import { CodedError, errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { settleWithin } from '../promises.js';
import type { ConnectionState } from './connection-state.js';

/** How often the same reason for not connecting is logged again (ms). */
export interface ConnectHints {
  readonly repeatEveryMs: number;
}

const DEFAULT_HINTS: ConnectHints = { repeatEveryMs: 60_000 };

export interface NatsClientOptions {
  readonly hints?: ConnectHints;
  /** The retries' waits, the close's bounds and the hints' times; the system scheduler by default. */
  readonly clock?: Scheduler;
}
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 5_000;
/** How long close() lets a drain take by default (a server that answers drains in milliseconds). */
const DEFAULT_DRAIN_MS = 5_000;
/** How long close() waits for the connection to close once the drain is given up. */
const FORCED_CLOSE_MS = 500;

export class NatsClosedError extends CodedError<'CLOSED'> {}

/**
 * Owns the NATS connection: connects (waiting, retrying forever, and saying
 * how to start a server while there is none), keeps ConnectionState current,
 * and tells its listeners when a lost connection comes back.
 */
export class NatsClient {
  private connection: NatsConnection | undefined;
  private readonly reconnectListeners: (() => void)[] = [];
  private closing = false;
  private readonly hints: ConnectHints;
  private readonly clock: Scheduler;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly state: ConnectionState,
    private readonly logger: Logger,
    client: NatsClientOptions = {},
  ) {
    this.hints = client.hints ?? DEFAULT_HINTS;
    this.clock = client.clock ?? systemScheduler;
  }

  /**
   * Resolves with the connection once the first connection is made, trying
   * again for as long as it takes and saying why each way of failing fails.
   * Rejects only when close() is called first.
   */
  async start(): Promise<NatsConnection> {
    const servers = serverList(this.options);
    this.logger.info({ servers }, 'connecting to NATS');
    let lastCause = '';
    let lastLogged = -Infinity;
    let delayMs = RETRY_MIN_MS;
    for (;;) {
      if (this.closing)
        throw new NatsClosedError('CLOSED', 'the NATS client was closed before connecting');
      try {
        // The first attempt fails fast; reconnections after it are nats.js's own, forever.
        const nc = await connect({ ...this.options, waitOnFirstConnect: false });
        if (this.isClosing()) {
          await nc.close();
          throw new NatsClosedError('CLOSED', 'the NATS client was closed while connecting');
        }
        this.connection = nc;
        this.state.connected = true;
        this.logger.info({ server: nc.getServer() }, 'connected to NATS');
        void this.watch(nc);
        return nc;
      } catch (err) {
        if (err instanceof NatsClosedError) throw err;
        const cause = connectFailure(err, this.options);
        const now = this.clock.now();
        // A new cause is said at once; the same one again only now and then.
        if (cause !== lastCause || now - lastLogged >= this.hints.repeatEveryMs) {
          this.logger.warn(
            { servers, err: errorMessage(err) },
            `cannot connect to NATS, retrying: ${cause}`,
          );
          lastCause = cause;
          lastLogged = now;
        }
        await this.clock.sleep(delayMs, { unref: true });
        delayMs = Math.min(delayMs * 2, RETRY_MAX_MS);
      }
    }
  }

  private isClosing(): boolean {
    return this.closing;
  }

  /** Called after each reconnection (not the first connection). */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  /**
   * Drains subscriptions and closes, within `timeoutMs`: a drain waits for the
   * server's answer, which a server that is down or hangs may never give; past
   * the limit the connection is closed without it. Safe to call when never
   * connected.
   */
  async close(timeoutMs = DEFAULT_DRAIN_MS): Promise<void> {
    this.closing = true;
    const nc = this.connection;
    if (nc === undefined || nc.isClosed()) return;
    const drain = await settleWithin(this.clock, nc.drain(), timeoutMs);
    if (drain.kind === 'failed') {
      this.logger.debug({ err: errorMessage(drain.err) }, 'NATS drain failed: closing');
    } else if (drain.kind === 'timeout') {
      this.logger.warn(
        { timeoutMs },
        'NATS drain unfinished in time (is the server down or hung?): closing without it',
      );
    }
    if (drain.kind !== 'done') await settleWithin(this.clock, nc.close(), FORCED_CLOSE_MS);
    this.state.connected = false;
  }

  private async watch(nc: NatsConnection): Promise<void> {
    void nc.closed().then((err) => {
      this.state.connected = false;
      if (!this.closing) {
        this.logger.error(
          { err: err === undefined ? undefined : errorMessage(err) },
          'NATS connection closed',
        );
      }
    });
    for await (const status of nc.status()) {
      switch (status.type) {
        case Events.Disconnect:
          this.state.connected = false;
          if (!this.closing)
            this.logger.warn({ server: status.data }, 'disconnected from NATS, reconnecting');
          break;
        case Events.Reconnect:
          this.state.connected = true;
          this.logger.info({ server: status.data }, 'reconnected to NATS');
          for (const listener of this.reconnectListeners) listener();
          break;
        case Events.Error:
          this.logger.error({ err: status.data }, 'NATS error');
          break;
        default:
          break;
      }
    }
  }
}

function serverList(options: ConnectionOptions): string[] {
  const { servers } = options;
  if (servers === undefined) return [];
  return Array.isArray(servers) ? servers : [servers];
}

/** What an operator should do about a failed connection attempt. */
function connectFailure(err: unknown, options: ConnectionOptions): string {
  const code = (err as { code?: unknown }).code;
  switch (code) {
    case ErrorCode.ConnectionRefused:
      return `nothing listens there: start a server with JetStream (\`nats-server -js\`) or point ${describe('nats.url')} at one`;
    case ErrorCode.AuthorizationViolation:
    case ErrorCode.AuthenticationExpired:
    case ErrorCode.AccountExpired:
      return `the server refused the credentials: check ${describe('nats.user')} and ${describe('nats.password')}, ${describe('nats.token')} or ${describe('nats.creds')}`;
    case ErrorCode.BadCreds:
    case ErrorCode.BadAuthentication:
      return `the credentials cannot be used: check the ${describe('nats.creds')} file`;
    case ErrorCode.Tls:
      return `TLS failed: check ${describe('nats.tls-ca')}, ${describe('nats.tls-cert')} and ${describe('nats.tls-key')}`;
    case ErrorCode.ConnectionTimeout:
    case ErrorCode.Timeout:
      return options.tls === undefined
        ? 'no answer in time: is the address right, and is it a NATS server?'
        : `no answer in time: a TLS server that requires a client certificate drops clients without one: set ${describe('nats.tls-cert')} and ${describe('nats.tls-key')}`;
    default:
      return 'see the error';
  }
}

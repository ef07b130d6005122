import { connect, Events, type ConnectionOptions, type NatsConnection } from 'nats';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ConnectionState } from './connection-state.js';

/** When to tell the operator how to get a NATS server while there is none (ms). */
export interface ConnectHints {
  readonly firstAfterMs: number;
  readonly repeatEveryMs: number;
}

const DEFAULT_HINTS: ConnectHints = { firstAfterMs: 3_000, repeatEveryMs: 60_000 };

/**
 * Owns the NATS connection: connects (waiting, retrying forever, and saying
 * how to start a server while there is none), keeps ConnectionState current,
 * and tells its listeners when a lost connection comes back.
 */
export class NatsClient {
  private connection: NatsConnection | undefined;
  private readonly reconnectListeners: (() => void)[] = [];
  private closing = false;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly state: ConnectionState,
    private readonly logger: Logger,
    private readonly hints: ConnectHints = DEFAULT_HINTS,
  ) {}

  /** Resolves with the connection once the first connection is made. */
  async start(): Promise<NatsConnection> {
    const servers = serverList(this.options);
    this.logger.info({ servers }, 'connecting to NATS');
    const hint = (): void => {
      this.logger.warn(
        { servers },
        'cannot reach NATS yet, retrying; start a server with JetStream (`nats-server -js`) ' +
          'or point --nats.url (NATS_URL) at one',
      );
    };
    const first = setTimeout(hint, this.hints.firstAfterMs);
    const repeat = setInterval(hint, this.hints.repeatEveryMs);
    first.unref();
    repeat.unref();
    try {
      const nc = await connect(this.options);
      this.connection = nc;
      this.state.connected = true;
      this.logger.info({ server: nc.getServer() }, 'connected to NATS');
      void this.watch(nc);
      return nc;
    } finally {
      clearTimeout(first);
      clearInterval(repeat);
    }
  }

  /** Called after each reconnection (not the first connection). */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  /** Drains subscriptions and closes; safe to call when never connected. */
  async close(): Promise<void> {
    this.closing = true;
    const nc = this.connection;
    if (nc === undefined || nc.isClosed()) return;
    try {
      await nc.drain();
    } catch (err) {
      this.logger.debug({ err: errorMessage(err) }, 'NATS drain failed; closing');
      await nc.close();
    }
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

import type { LogSettings, NatsAuth, NatsTls } from '../../config/settings.js';

/** Everything the bridge is told: flags and environment, parsed and checked; deeply frozen. */
export interface BridgeSettings {
  readonly lnd: LndSettings;
  /** The node's name: one subject token, the exporter's `node` label. */
  readonly node: string;
  readonly status: {
    /** Between two checks of lnd, ms: while lnd is up, each publishes `up` (the heartbeat). */
    readonly intervalMs: number;
  };
  readonly nats: BridgeNatsSettings;
  readonly log: LogSettings;
}

export interface LndSettings {
  /** lnd's REST listener, e.g. https://127.0.0.1:8080/ (its path ends in '/'). */
  readonly restUrl: URL;
  /** A macaroon file, binary as lnd writes it (or hex text); read again at each connection. */
  readonly macaroonFile: string;
  /** lnd's tls.cert, trusted as the CA; system CAs when undefined. Read again at each connection. */
  readonly tlsCertFile: string | undefined;
  /** Bound on a ListChannels / ListPeers / GetInfo call, ms. */
  readonly timeoutMs: number;
  /** First delay before reconnecting a failed or ended stream, ms (doubled up to retryMaxMs). */
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

export interface BridgeNatsSettings {
  /** Server URLs (`nats://host:port` or `tls://host:port`), in the order given. */
  readonly servers: readonly string[];
  /** Client connection name, shown in the NATS server's monitoring. */
  readonly name: string;
  readonly subjectPrefix: string;
  readonly auth: NatsAuth;
  /** Defined when TLS is required: --nats.tls, a tls:// server or any TLS file. */
  readonly tls: NatsTls | undefined;
  /** Publish events with JetStream (acknowledged by the stream) instead of core NATS. */
  readonly jetstream: boolean;
}

/** What the command line asks for: run with these settings, or print a text and exit 0. */
export type BridgeSettingsResult =
  | { readonly kind: 'settings'; readonly settings: BridgeSettings }
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'version'; readonly text: string };

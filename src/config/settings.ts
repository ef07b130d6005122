import type { LogFormat, LogLevel } from '../log/logger.js';
import type { MetricWindow } from '../metrics/metric-windows.js';

/** Everything the service is configured with; built by parseSettings, deeply frozen. */
export interface Settings {
  readonly nats: NatsSettings;
  readonly store: StoreSettings;
  readonly flap: FlapSettings;
  readonly history: HistorySettings;
  readonly observer: ObserverSettings;
  readonly metrics: MetricsSettings;
  readonly web: WebSettings;
  readonly graphql: GraphqlSettings;
  readonly log: LogSettings;
}

export interface NatsSettings {
  /** Server URLs (`nats://host:port` or `tls://host:port`), in the order given. */
  readonly servers: readonly string[];
  /** Client connection name, shown in the NATS server's monitoring. */
  readonly name: string;
  /** One or more subject tokens: subjects are `<subjectPrefix>.<node>.<kind>`. */
  readonly subjectPrefix: string;
  /**
   * lnd nodes to bootstrap at start (single subject tokens, no duplicates); when
   * any, the only nodes whose events are taken.
   */
  readonly nodes: readonly string[];
  /** Distinct nodes tracked at most (at least 1, and at least as many as `nodes`). */
  readonly maxNodes: number;
  /** JetStream mode when set (--nats.stream); core NATS subscriptions when undefined. */
  readonly jetstream: JetStreamSettings | undefined;
  /** Timeout of each bootstrap request (list_channels, list_peers), ms. */
  readonly bootstrapTimeoutMs: number;
  readonly auth: NatsAuth;
  /** Defined when TLS is required: --nats.tls, a tls:// server or any TLS file. */
  readonly tls: NatsTls | undefined;
}

export interface JetStreamSettings {
  readonly stream: string;
  /** Durable consumer name. */
  readonly durable: string;
  /** Create the stream when it does not exist. */
  readonly createStream: boolean;
  /** Max age of messages in a stream this service creates, ms. */
  readonly streamMaxAgeMs: number;
  /** Unacknowledged messages allowed at once (the consumer's max_ack_pending). */
  readonly maxInFlight: number;
}

/** At most one way to authenticate to NATS. */
export type NatsAuth =
  | { readonly kind: 'none' }
  /** Path of a .creds file (JWT and NKey seed); checked readable, contents not read here. */
  | { readonly kind: 'creds'; readonly credsFile: string }
  | { readonly kind: 'user-password'; readonly user: string; readonly password: string }
  | { readonly kind: 'token'; readonly token: string };

/** Paths of PEM files, each checked readable; the shape of nats.js's TLS options. */
export interface NatsTls {
  readonly caFile: string | undefined;
  /** Client certificate; set together with keyFile. */
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
}

export type StoreSettings = StoreLocation & {
  /** Bound on each store operation, ms. */
  readonly timeoutMs: number;
};

/**
 * The Keyv backend chosen by --store.url (parseStoreUrl, its only parse): what
 * the persistence opens. `url` is as given (log it through redactUrl).
 */
export type StoreLocation =
  /**
   * `path` is the URL without `sqlite://`: `:memory:`, or a file path, a
   * relative one being relative to the working directory.
   */
  | { readonly backend: 'sqlite'; readonly url: string; readonly path: string }
  /** redis:// or rediss:// */
  | { readonly backend: 'redis'; readonly url: string }
  /** postgres:// or postgresql:// */
  | { readonly backend: 'postgres'; readonly url: string };

export type StoreBackend = StoreLocation['backend'];

export interface FlapSettings {
  /** Period of flap count flushes to the store, ms (at least 1 s). */
  readonly flushIntervalMs: number;
}

/** The whole store kept across restarts (--history); undefined: only flap counts, as lnd. */
export type HistorySettings =
  | { readonly enabled: false }
  | {
      readonly enabled: true;
      /** Period of snapshots, ms. */
      readonly snapshotIntervalMs: number;
      /** Events older than this are compacted away, ms; 0 keeps everything. */
      readonly retentionMs: number;
      /** Events kept while a restore is awaited (core NATS). */
      readonly pendingLimit: number;
    };

/** When a node counts as unobserved (SPEC 4.4), ms. */
export interface ObserverSettings {
  /** A node that ever sent a status is unobserved from its last one once none came for this long. */
  readonly timeoutMs: number;
  /** A gap ends this long after the node is back. */
  readonly settleMs: number;
}

export interface MetricsSettings {
  /** Windows of chanfitness_channel_window_uptime_ratio, in the order given (at least one). */
  readonly windows: readonly MetricWindow[];
}

export interface WebSettings {
  readonly listen: ListenAddress;
  /** HTTPS when set. */
  readonly tls: WebTls | undefined;
  readonly auth: WebAuth;
  /** Allowed CORS origins (normalized, or the single entry `*`); CORS off when undefined. */
  readonly corsOrigins: readonly string[] | undefined;
  /** A client must send its request headers (after the TLS handshake) within this, ms. */
  readonly headerTimeoutMs: number;
  /** A client must send its whole request, body included, within this, ms (>= headerTimeoutMs). */
  readonly requestTimeoutMs: number;
}

export interface ListenAddress {
  /** As given, e.g. `127.0.0.1:9766`, `[::1]:9766`, `:9766`. */
  readonly address: string;
  /** Host for server.listen(), IPv6 without brackets; undefined: all interfaces. */
  readonly host: string | undefined;
  /** 0 lets the system pick a free port. */
  readonly port: number;
}

export interface WebTls {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Authentication required on every HTTP endpoint, if any. */
export type WebAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly user: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string };

export interface GraphqlSettings {
  readonly maxDepth: number;
  readonly maxCost: number;
  readonly maxAliases: number;
  /** Subscriptions (SSE streams) open at once, at most. */
  readonly maxSubscriptions: number;
  readonly introspection: boolean;
  /** Serve GraphiQL to browsers on /graphql. */
  readonly graphiql: boolean;
}

export interface LogSettings {
  readonly level: LogLevel;
  readonly format: LogFormat;
}

/** What the command line asks for: run with these settings, or print a text and exit 0. */
export type SettingsResult =
  | { readonly kind: 'settings'; readonly settings: Settings }
  /** `text` is the full help, ending with a newline. */
  | { readonly kind: 'help'; readonly text: string }
  /** `text` is the version, ending with a newline. */
  | { readonly kind: 'version'; readonly text: string };

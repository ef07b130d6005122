/** Help section of a setting; the part of its name before the first dot. */
export type SettingGroup =
  'nats' | 'store' | 'flap' | 'history' | 'observer' | 'metrics' | 'web' | 'graphql' | 'log';

export interface SettingDefinition<Group extends string = SettingGroup> {
  /** The flag without its dashes, `<group>.<name>`. */
  readonly name: string;
  readonly group: Group;
  /** Placeholder of the value in the help; absent for booleans (`--x`, `--x=false`, `--no-x`). */
  readonly valueName?: string;
  /** Text form, validated like any other value. */
  readonly default?: string;
  readonly description: string;
  /** Its value never reaches a log line, and the help advises the environment variable. */
  readonly secret?: boolean;
  /**
   * What the setting turns on (`HTTPS`, `NATS token authentication`): an explicitly
   * empty value is refused instead of read as unset, so that a blank variable or a
   * `--x=` from a template cannot switch that protection off without a word.
   */
  readonly security?: string;
}

/** Every setting the service has; the flag is `--<name>`, the variable envVarOf(name). */
export const SETTING_DEFINITIONS = [
  {
    name: 'nats.url',
    group: 'nats',
    valueName: 'urls',
    default: 'nats://127.0.0.1:4222',
    description: 'NATS servers, comma-separated: nats://host:port or tls://host:port',
  },
  {
    name: 'nats.name',
    group: 'nats',
    valueName: 'name',
    default: 'chanfitness-exporter',
    description: 'connection name shown in the NATS server monitoring',
  },
  {
    name: 'nats.subject-prefix',
    group: 'nats',
    valueName: 'prefix',
    default: 'lnd',
    description: 'subjects are <prefix>.<node>.channel_events, .peer_events, .rpc.list_*',
  },
  {
    name: 'nats.nodes',
    group: 'nats',
    valueName: 'nodes',
    description:
      'lnd nodes (subject tokens, comma-separated) to bootstrap at start, and the only ones whose events are taken',
  },
  {
    name: 'nats.max-nodes',
    group: 'nats',
    valueName: 'count',
    default: '100',
    description:
      'lnd nodes tracked at most (restored ones included); events of further nodes are rejected',
  },
  {
    name: 'nats.stream',
    group: 'nats',
    valueName: 'stream',
    description: 'consume this JetStream stream through a durable consumer (JetStream mode)',
  },
  {
    name: 'nats.durable',
    group: 'nats',
    valueName: 'name',
    default: 'chanfitness-exporter',
    description: 'durable consumer name in JetStream mode',
  },
  {
    name: 'nats.create-stream',
    group: 'nats',
    default: 'false',
    description: 'create the stream named by --nats.stream when it does not exist',
  },
  {
    name: 'nats.stream-max-age',
    group: 'nats',
    valueName: 'duration',
    default: '7d',
    description: 'max age of messages in a stream created by --nats.create-stream',
  },
  {
    name: 'nats.max-in-flight',
    group: 'nats',
    valueName: 'count',
    default: '10000',
    description: 'JetStream messages delivered but not yet acknowledged, at most (backpressure)',
  },
  {
    name: 'nats.bootstrap-timeout',
    group: 'nats',
    valueName: 'duration',
    default: '5s',
    description: 'timeout of the list_channels and list_peers bootstrap requests',
  },
  {
    name: 'nats.creds',
    group: 'nats',
    valueName: 'file',
    description: 'NATS credentials file (.creds: user JWT and NKey seed)',
    security: 'NATS authentication with a credentials file',
  },
  {
    name: 'nats.user',
    group: 'nats',
    valueName: 'user',
    description: 'NATS user name',
    security: 'NATS user and password authentication',
  },
  {
    name: 'nats.password',
    group: 'nats',
    valueName: 'password',
    description: 'NATS password (with --nats.user)',
    secret: true,
    security: 'NATS user and password authentication',
  },
  {
    name: 'nats.token',
    group: 'nats',
    valueName: 'token',
    description: 'NATS authentication token',
    secret: true,
    security: 'NATS token authentication',
  },
  {
    name: 'nats.tls',
    group: 'nats',
    default: 'false',
    description: 'require TLS (implied by tls:// servers and the --nats.tls-* files)',
  },
  {
    name: 'nats.tls-ca',
    group: 'nats',
    valueName: 'file',
    description: 'CA certificates (PEM) to verify the NATS server with',
    security: 'verifying the NATS server with your CA',
  },
  {
    name: 'nats.tls-cert',
    group: 'nats',
    valueName: 'file',
    description: 'client certificate (PEM), with --nats.tls-key',
    security: 'the NATS TLS client certificate',
  },
  {
    name: 'nats.tls-key',
    group: 'nats',
    valueName: 'file',
    description: 'client private key (PEM), with --nats.tls-cert',
    security: 'the NATS TLS client certificate',
  },
  {
    name: 'store.url',
    group: 'store',
    valueName: 'url',
    default: 'sqlite://./data/chanfitness.sqlite',
    description: 'flap count store: sqlite://<path>, redis[s]://host[:port][/db], postgres[ql]://…',
  },
  {
    name: 'store.timeout',
    group: 'store',
    valueName: 'duration',
    default: '5s',
    description: 'timeout of each store operation, and of opening the store at start',
  },
  {
    name: 'flap.flush-interval',
    group: 'flap',
    valueName: 'duration',
    default: '1h',
    description: 'how often flap counts are written to the store (at least 1s)',
  },
  {
    name: 'history',
    group: 'history',
    default: 'true',
    description:
      'keep every lifetime, uptime and flap count across restarts in the store (--no-history: only flap counts, as lnd)',
  },
  {
    name: 'history.snapshot-interval',
    group: 'history',
    valueName: 'duration',
    default: '1m',
    description: 'how often the changes of the history are written to the store (and at stop)',
  },
  {
    name: 'history.retention',
    group: 'history',
    valueName: 'duration',
    default: '90d',
    description:
      'peer events older than this are compacted away (lifetime uptime stays exact; 0 keeps all)',
  },
  {
    name: 'history.pending-limit',
    group: 'history',
    valueName: 'count',
    default: '1000000',
    description:
      'events kept to join to a history the store cannot give yet at start (core NATS mode)',
  },
  {
    name: 'observer.timeout',
    group: 'observer',
    valueName: 'duration',
    default: '1m',
    description:
      'a node that sends statuses is unobserved from its last one once none came for this long',
  },
  {
    name: 'observer.settle',
    group: 'observer',
    valueName: 'duration',
    default: '2m',
    description:
      'an unobserved span ends this long after the node is back (its reconnections are not flaps; 0: at once)',
  },
  {
    name: 'metrics.windows',
    group: 'metrics',
    valueName: 'durations',
    default: '1d,7d,30d',
    description:
      'windows of chanfitness_channel_window_uptime_ratio, comma-separated (each at least 1m)',
  },
  {
    name: 'web.listen-address',
    group: 'web',
    valueName: 'host:port',
    default: '127.0.0.1:9766',
    description:
      'address of /metrics, /graphql, /healthz, /readyz ([::1]:port for IPv6, :port for all)',
  },
  {
    name: 'web.tls-cert',
    group: 'web',
    valueName: 'file',
    description: 'serve HTTPS with this certificate (PEM), with --web.tls-key',
    security: 'HTTPS',
  },
  {
    name: 'web.tls-key',
    group: 'web',
    valueName: 'file',
    description: 'private key (PEM) of --web.tls-cert',
    security: 'HTTPS',
  },
  {
    name: 'web.header-timeout',
    group: 'web',
    valueName: 'duration',
    default: '10s',
    description:
      'a client must send its request headers (and TLS handshake) within this (at least 1s)',
  },
  {
    name: 'web.request-timeout',
    group: 'web',
    valueName: 'duration',
    default: '30s',
    description:
      'a client must send its whole request, body included, within this (at least the header timeout)',
  },
  {
    name: 'web.basic-auth-user',
    group: 'web',
    valueName: 'user',
    description: 'require HTTP basic authentication with this user',
    security: 'HTTP basic authentication',
  },
  {
    name: 'web.basic-auth-password',
    group: 'web',
    valueName: 'password',
    description: 'password of --web.basic-auth-user',
    secret: true,
    security: 'HTTP basic authentication',
  },
  {
    name: 'web.bearer-token',
    group: 'web',
    valueName: 'token',
    description: 'require this bearer token (not with basic authentication)',
    secret: true,
    security: 'HTTP bearer-token authentication',
  },
  {
    name: 'web.cors-origin',
    group: 'web',
    valueName: 'origins',
    description: 'origins allowed by CORS, comma-separated, or *; CORS is off when unset',
    security: 'CORS',
  },
  {
    name: 'graphql.max-depth',
    group: 'graphql',
    valueName: 'n',
    default: '10',
    description: 'maximum GraphQL query depth',
  },
  {
    name: 'graphql.max-cost',
    group: 'graphql',
    valueName: 'n',
    default: '100000',
    description: 'maximum GraphQL query cost',
  },
  {
    name: 'graphql.max-aliases',
    group: 'graphql',
    valueName: 'n',
    default: '1000',
    description: 'maximum aliases in a GraphQL query',
  },
  {
    name: 'graphql.max-subscriptions',
    group: 'graphql',
    valueName: 'n',
    default: '100',
    description: 'GraphQL subscriptions (server-sent event streams) open at once, at most',
  },
  {
    name: 'graphql.introspection',
    group: 'graphql',
    default: 'true',
    description: 'allow schema introspection',
  },
  {
    name: 'graphql.graphiql',
    group: 'graphql',
    default: 'true',
    description: 'serve GraphiQL on /graphql to browsers',
  },
  {
    name: 'log.level',
    group: 'log',
    valueName: 'level',
    default: 'info',
    description: 'fatal, error, warn, info, debug, trace or silent',
  },
  {
    name: 'log.format',
    group: 'log',
    valueName: 'format',
    default: 'auto',
    description: 'json, pretty, or auto (pretty on a terminal)',
  },
] as const satisfies readonly SettingDefinition[];

export type SettingName = (typeof SETTING_DEFINITIONS)[number]['name'];

/** A definition of the table, its name typed. */
export type KnownSetting = SettingDefinition & { readonly name: SettingName };

/** `nats.url` -> `NATS_URL`, `web.listen-address` -> `WEB_LISTEN_ADDRESS`. */
export function envVarOf(name: string): string {
  return name.toUpperCase().replace(/[.-]/g, '_');
}

export function flagOf(name: string): string {
  return `--${name}`;
}

/**
 * The settings of one program (this exporter, the lnd bridge), looked up by name and
 * by flag; the command line, the settings reader and the help are built from it.
 */
export class SettingTable<Name extends string, Group extends string = string> {
  private readonly byName: ReadonlyMap<string, SettingDefinition<Group> & { readonly name: Name }>;

  constructor(
    readonly definitions: readonly (SettingDefinition<Group> & { readonly name: Name })[],
  ) {
    this.byName = new Map(definitions.map((definition) => [definition.name, definition]));
  }

  /** The definition of a name of the table (the name's type makes it present). */
  definitionOf(name: Name): SettingDefinition<Group> & { readonly name: Name } {
    const definition = this.byName.get(name);
    if (definition === undefined) throw new Error(`no setting named ${name}`);
    return definition;
  }

  /** The definition of a flag as typed (`--nats.url`), if it is a setting. */
  definitionOfFlag(flag: string): (SettingDefinition<Group> & { readonly name: Name }) | undefined {
    return flag.startsWith('--') ? this.byName.get(flag.slice(2)) : undefined;
  }
}

/** The exporter's settings. */
export const EXPORTER_SETTINGS = new SettingTable<SettingName, SettingGroup>(SETTING_DEFINITIONS);

export function definitionOf(name: SettingName): KnownSetting {
  return EXPORTER_SETTINGS.definitionOf(name);
}

/** The definition of a flag as typed (`--nats.url`), if it is a setting. */
export function definitionOfFlag(flag: string): KnownSetting | undefined {
  return EXPORTER_SETTINGS.definitionOfFlag(flag);
}

import {
  definitionOf,
  SettingTable,
  type SettingDefinition,
  type SettingName,
} from '../../config/setting-definitions.js';

/** Help section of a bridge setting; the part of its name before the first dot. */
export type BridgeSettingGroup = 'lnd' | 'status' | 'nats' | 'log';

/** The settings the bridge shares with the exporter: the same flag, variable, default and checks. */
type SharedSettingName = Extract<SettingName, `nats.${string}` | `log.${string}`>;

/** One of the exporter's settings, as it is (or with the bridge's own description). */
function shared<const Name extends SharedSettingName, const Group extends BridgeSettingGroup>(
  name: Name,
  group: Group,
  description?: string,
) {
  const definition: SettingDefinition<string> = definitionOf(name);
  return {
    ...definition,
    name,
    group,
    description: description ?? definition.description,
  };
}

/** Every setting of the lnd bridge; the flag is `--<name>`, the variable envVarOf(name). */
export const BRIDGE_SETTING_DEFINITIONS = [
  {
    name: 'lnd.node',
    group: 'lnd',
    valueName: 'name',
    description:
      "the lnd node's name: the <node> of its subjects, the exporter's node label (one subject token)",
  },
  {
    name: 'lnd.rest-url',
    group: 'lnd',
    valueName: 'url',
    default: 'https://127.0.0.1:8080',
    description: "lnd's REST listener (lnd's restlisten); a path is kept (lnd behind a proxy)",
  },
  {
    name: 'lnd.macaroon',
    group: 'lnd',
    valueName: 'file',
    description:
      'macaroon file: readonly.macaroon, or one baked with `lncli bakemacaroon info:read offchain:read peers:read`',
    security: 'lnd macaroon authentication',
  },
  {
    name: 'lnd.tls-cert',
    group: 'lnd',
    valueName: 'file',
    description:
      "lnd's tls.cert (PEM), trusted for the REST connection (unset: the system's CAs, for a publicly trusted certificate)",
    security: 'verifying lnd with its tls.cert',
  },
  {
    name: 'lnd.timeout',
    group: 'lnd',
    valueName: 'duration',
    default: '30s',
    description: 'timeout of a ListChannels, ListPeers or GetInfo call (at least 100ms)',
  },
  {
    name: 'lnd.retry-min',
    group: 'lnd',
    valueName: 'duration',
    default: '1s',
    description:
      'first delay before reopening an event stream that failed or ended (at least 10ms)',
  },
  {
    name: 'lnd.retry-max',
    group: 'lnd',
    valueName: 'duration',
    default: '10s',
    description: 'longest delay between reopenings (events lnd sends meanwhile are missed)',
  },
  {
    name: 'status.interval',
    group: 'status',
    valueName: 'duration',
    default: '15s',
    description:
      'how often lnd is checked; while it is up each check publishes "up" (the heartbeat: keep it ' +
      "well under the exporter's --observer.timeout; at least 50ms)",
  },
  shared('nats.url', 'nats'),
  shared(
    'nats.subject-prefix',
    'nats',
    'subjects are <prefix>.<node>.channel_events, .peer_events, .status, .rpc.list_*',
  ),
  {
    name: 'nats.jetstream',
    group: 'nats',
    default: 'false',
    description:
      'publish events and statuses with JetStream, each acknowledged by a stream on their subjects ' +
      "(e.g. the exporter's --nats.stream with --nats.create-stream)",
  },
  shared('nats.creds', 'nats'),
  shared('nats.user', 'nats'),
  shared('nats.password', 'nats'),
  shared('nats.token', 'nats'),
  shared('nats.tls', 'nats'),
  shared('nats.tls-ca', 'nats'),
  shared('nats.tls-cert', 'nats'),
  shared('nats.tls-key', 'nats'),
  shared('log.level', 'log'),
  shared('log.format', 'log'),
] as const satisfies readonly SettingDefinition<BridgeSettingGroup>[];

export type BridgeSettingName = (typeof BRIDGE_SETTING_DEFINITIONS)[number]['name'];

export const BRIDGE_SETTINGS = new SettingTable<BridgeSettingName, BridgeSettingGroup>(
  BRIDGE_SETTING_DEFINITIONS,
);

/** The help's heading of each group. */
export const BRIDGE_SETTING_HEADINGS: Readonly<Record<BridgeSettingGroup, string>> = {
  lnd: 'lnd (its REST API):',
  status: "lnd's status (<prefix>.<node>.status):",
  nats: 'NATS output:',
  log: 'Logging:',
};

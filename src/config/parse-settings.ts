import { LOG_LEVELS, type LogFormat } from '../log/logger.js';
import { readCommandLine } from './command-line.js';
import { parseCorsOrigins } from './cors-origins.js';
import { parseDurationMs, type DurationBounds } from './durations.js';
import { parseListenAddress } from './listen-address.js';
import { parseMetricWindows } from './metric-windows.js';
import {
  parseJetStreamName,
  parseNatsServers,
  parseNodeNames,
  parseSubjectPrefix,
} from './nats-values.js';
import { readCertificatePair } from './certificate-pair.js';
import { readNatsAuth, readNatsTls } from './nats-connection-settings.js';
import { parseChoice, parseInteger } from './scalar-values.js';
import { EXPORTER_SETTINGS } from './setting-definitions.js';
import type {
  HistorySettings,
  NatsSettings,
  Settings,
  SettingsResult,
  StoreSettings,
  WebAuth,
  WebSettings,
} from './settings.js';
import { describeSetting as describe, SettingsReader } from './settings-reader.js';
import { parseStoreUrl } from './store-url.js';

const LOG_FORMAT_CHOICES: Readonly<Record<LogFormat, true>> = {
  auto: true,
  json: true,
  pretty: true,
};
// From a Record over LogFormat, so that a new format cannot be forgotten here.
const LOG_FORMATS = Object.keys(LOG_FORMAT_CHOICES) as LogFormat[];

const DAY_MS = 86_400_000;
/** Timer durations: setTimeout fires at once beyond 2^31-1 ms (24.8 days). */
const TIMER = { maxMs: 24 * DAY_MS, maxText: '24d' } as const;
const AT_LEAST_1MS: DurationBounds = { minMs: 1, minText: '1ms', ...TIMER };
const AT_LEAST_1S: DurationBounds = { minMs: 1000, minText: '1s', ...TIMER };

const text = (value: string): string => value;

/**
 * The settings from the command line (argv without node and script) and the
 * environment: flags win over variables, variables over defaults. Pure apart from
 * checking that named files are readable: prints nothing and never exits.
 * --help and --version come back as texts to print; any mistake is a SettingsError.
 */
export function parseSettings(argv: readonly string[], env: NodeJS.ProcessEnv): SettingsResult {
  const commandLine = readCommandLine(argv);
  if (commandLine.kind !== 'flags') return commandLine;
  const reader = new SettingsReader(commandLine.flags, env, EXPORTER_SETTINGS);
  const settings: Settings = {
    nats: readNats(reader),
    store: readStore(reader),
    flap: {
      flushIntervalMs: reader.required('flap.flush-interval', (value) =>
        parseDurationMs(value, AT_LEAST_1S),
      ),
    },
    history: readHistory(reader),
    observer: {
      timeoutMs: reader.required('observer.timeout', (value) =>
        parseDurationMs(value, AT_LEAST_1S),
      ),
      // 0: a gap ends as soon as the node is back.
      settleMs: reader.required('observer.settle', (value) =>
        value.trim() === '0' ? 0 : parseDurationMs(value, AT_LEAST_1S),
      ),
    },
    metrics: { windows: reader.required('metrics.windows', parseMetricWindows) },
    web: readWeb(reader),
    graphql: {
      maxDepth: reader.required('graphql.max-depth', (value) => parseInteger(value, 1)),
      maxCost: reader.required('graphql.max-cost', (value) => parseInteger(value, 1)),
      maxAliases: reader.required('graphql.max-aliases', (value) => parseInteger(value, 1)),
      maxSubscriptions: reader.required('graphql.max-subscriptions', (value) =>
        parseInteger(value, 1),
      ),
      introspection: reader.boolean('graphql.introspection'),
      graphiql: reader.boolean('graphql.graphiql'),
    },
    log: {
      level: reader.required('log.level', (value) => parseChoice(value, LOG_LEVELS)),
      format: reader.required('log.format', (value) => parseChoice(value, LOG_FORMATS)),
    },
  };
  return { kind: 'settings', settings: deepFreeze(settings) };
}

function readNats(reader: SettingsReader): NatsSettings {
  const servers = reader.required('nats.url', parseNatsServers);
  const stream = reader.optional('nats.stream', parseJetStreamName);
  const createStream = reader.boolean('nats.create-stream');
  if (createStream && stream === undefined) {
    throw reader.invalid('nats.create-stream', `requires ${describe('nats.stream')}`);
  }
  const jetstream = {
    durable: reader.required('nats.durable', parseJetStreamName),
    createStream,
    streamMaxAgeMs: reader.required('nats.stream-max-age', (value) =>
      parseDurationMs(value, { minMs: 1000, minText: '1s' }),
    ),
    maxInFlight: reader.required('nats.max-in-flight', (value) => parseInteger(value, 1)),
  };
  const nodes = reader.optional('nats.nodes', parseNodeNames) ?? [];
  const maxNodes = reader.required('nats.max-nodes', (value) => parseInteger(value, 1));
  // Named nodes are always taken: a list longer than the bound would break it.
  if (nodes.length > maxNodes) {
    throw reader.invalid(
      'nats.max-nodes',
      `${maxNodes} is less than the ${nodes.length} nodes named by ${describe('nats.nodes')}`,
    );
  }
  return {
    servers,
    name: reader.required('nats.name', text),
    subjectPrefix: reader.required('nats.subject-prefix', parseSubjectPrefix),
    nodes,
    maxNodes,
    jetstream: stream === undefined ? undefined : { stream, ...jetstream },
    bootstrapTimeoutMs: reader.required('nats.bootstrap-timeout', (value) =>
      parseDurationMs(value, AT_LEAST_1MS),
    ),
    auth: readNatsAuth(reader),
    tls: readNatsTls(reader, servers),
  };
}

function readStore(reader: SettingsReader): StoreSettings {
  return {
    ...reader.required('store.url', parseStoreUrl),
    timeoutMs: reader.required('store.timeout', (value) => parseDurationMs(value, AT_LEAST_1MS)),
  };
}

function readHistory(reader: SettingsReader): HistorySettings {
  const enabled = reader.boolean('history');
  const snapshotIntervalMs = reader.required('history.snapshot-interval', (value) =>
    parseDurationMs(value, AT_LEAST_1S),
  );
  // 0 keeps everything; anything else at least an hour (and beyond a timer's range: no timer uses it).
  const retentionMs = reader.required('history.retention', (value) =>
    value.trim() === '0' ? 0 : parseDurationMs(value, { minMs: 3_600_000, minText: '1h' }),
  );
  const pendingLimit = reader.required('history.pending-limit', (value) => parseInteger(value, 0));
  if (!enabled) return { enabled: false };
  return { enabled: true, snapshotIntervalMs, retentionMs, pendingLimit };
}

function readWeb(reader: SettingsReader): WebSettings {
  const headerTimeoutMs = reader.required('web.header-timeout', (value) =>
    parseDurationMs(value, AT_LEAST_1S),
  );
  const requestTimeoutMs = reader.required('web.request-timeout', (value) =>
    parseDurationMs(value, AT_LEAST_1S),
  );
  // Node refuses a header timeout above the request timeout: the headers are part of the request.
  // The one blamed is the one given (the header timeout when both are).
  if (headerTimeoutMs > requestTimeoutMs) {
    throw reader.given('web.header-timeout')
      ? reader.invalid(
          'web.header-timeout',
          `must not be longer than ${describe('web.request-timeout')}`,
        )
      : reader.invalid(
          'web.request-timeout',
          `must not be shorter than ${describe('web.header-timeout')}`,
        );
  }
  return {
    listen: reader.required('web.listen-address', parseListenAddress),
    tls: readCertificatePair(reader, 'web.tls-cert', 'web.tls-key'),
    auth: readWebAuth(reader),
    corsOrigins: reader.optional('web.cors-origin', parseCorsOrigins),
    headerTimeoutMs,
    requestTimeoutMs,
  };
}

function readWebAuth(reader: SettingsReader): WebAuth {
  const user = reader.optional('web.basic-auth-user', text);
  const password = reader.optional('web.basic-auth-password', text);
  const token = reader.optional('web.bearer-token', text);
  if (user !== undefined && password === undefined) {
    throw reader.invalid('web.basic-auth-user', `requires ${describe('web.basic-auth-password')}`);
  }
  if (password !== undefined && user === undefined) {
    throw reader.invalid('web.basic-auth-password', `requires ${describe('web.basic-auth-user')}`);
  }
  if (token !== undefined && user !== undefined) {
    throw reader.invalid(
      'web.bearer-token',
      `cannot be used with basic authentication ${describe('web.basic-auth-user')}`,
    );
  }
  if (token !== undefined) return { kind: 'bearer', token };
  if (user !== undefined && password !== undefined) return { kind: 'basic', user, password };
  return { kind: 'none' };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

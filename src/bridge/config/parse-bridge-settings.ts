import { homedir } from 'node:os';
import { readProgramCommandLine, type CommandSpec } from '../../config/command-line.js';
import { checkCertificateFile } from '../../config/credential-files.js';
import { parseDurationMs, type DurationBounds } from '../../config/durations.js';
import { readNatsAuth, readNatsTls } from '../../config/nats-connection-settings.js';
import { parseNatsServers, parseNodeName, parseSubjectPrefix } from '../../config/nats-values.js';
import { parseChoice } from '../../config/scalar-values.js';
import { InvalidValueError } from '../../config/settings-error.js';
import { SettingsReader } from '../../config/settings-reader.js';
import { LOG_LEVELS, type LogFormat } from '../../log/logger.js';
import {
  BRIDGE_SETTING_HEADINGS,
  BRIDGE_SETTINGS,
  type BridgeSettingGroup,
  type BridgeSettingName,
} from './bridge-setting-definitions.js';
import type { BridgeSettings, BridgeSettingsResult, LndSettings } from './bridge-settings.js';
import { checkMacaroonFile } from './macaroon-file.js';

const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'pretty'];

const DAY_MS = 86_400_000;
/** Timer durations: setTimeout fires at once beyond 2^31-1 ms (24.8 days). */
const TIMER = { maxMs: 24 * DAY_MS, maxText: '24d' } as const;
const AT_LEAST_100MS: DurationBounds = { minMs: 100, minText: '100ms', ...TIMER };
const AT_LEAST_50MS: DurationBounds = { minMs: 50, minText: '50ms', ...TIMER };
const AT_LEAST_10MS: DurationBounds = { minMs: 10, minText: '10ms', ...TIMER };

const HELP_FOOTER = `
Every option can also be set through the environment variable shown with it;
a flag given on the command line wins over the variable, which wins over the default.
An empty variable counts as unset, except for the macaroon, credentials and TLS files:
an empty value of those is an error (leave it out instead). Durations: 500ms, 15s, 1m
(a unit is required). Booleans: --x, --x=false or --no-x; in variables true/false, 1/0,
yes/no. A readonly macaroon is enough (info:read, offchain:read, peers:read).
`;

const BRIDGE_COMMAND: CommandSpec<BridgeSettingName, BridgeSettingGroup> = {
  program: 'chanfitness-lnd-bridge',
  description:
    "Relay an lnd node's channel and peer events from its REST API to NATS for " +
    'chanfitness-exporter, answer its list_channels / list_peers bootstrap requests, and ' +
    'publish whether lnd is up.',
  settings: BRIDGE_SETTINGS,
  headings: BRIDGE_SETTING_HEADINGS,
  footer: HELP_FOOTER,
};

/**
 * The bridge's settings from the command line (argv without node and script) and the
 * environment, with the exporter's machinery: flags win over variables, variables over
 * defaults. Pure apart from checking that named files are readable: prints nothing and
 * never exits. --help and --version come back as texts; any mistake is a SettingsError
 * naming the flag and the variable.
 */
export function parseBridgeSettings(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): BridgeSettingsResult {
  const commandLine = readProgramCommandLine(argv, BRIDGE_COMMAND);
  if (commandLine.kind !== 'flags') return commandLine;
  const reader = new SettingsReader(commandLine.flags, env, BRIDGE_SETTINGS);
  const node = reader.required('lnd.node', parseNodeName);
  const servers = reader.required('nats.url', parseNatsServers);
  const settings: BridgeSettings = {
    lnd: readLnd(reader),
    node,
    status: {
      intervalMs: reader.required('status.interval', (value) =>
        parseDurationMs(value, AT_LEAST_50MS),
      ),
    },
    nats: {
      servers,
      name: `chanfitness-lnd-bridge-${node}`,
      subjectPrefix: reader.required('nats.subject-prefix', parseSubjectPrefix),
      auth: readNatsAuth(reader),
      tls: readNatsTls(reader, servers),
      jetstream: reader.boolean('nats.jetstream'),
    },
    log: {
      level: reader.required('log.level', (value) => parseChoice(value, LOG_LEVELS)),
      format: reader.required('log.format', (value) => parseChoice(value, LOG_FORMATS)),
    },
  };
  return { kind: 'settings', settings: deepFreeze(settings) };
}

function readLnd(reader: SettingsReader<BridgeSettingName>): LndSettings {
  const retryMinMs = reader.required('lnd.retry-min', (value) =>
    parseDurationMs(value, AT_LEAST_10MS),
  );
  const retryMaxMs = reader.required('lnd.retry-max', (value) =>
    parseDurationMs(value, AT_LEAST_10MS),
  );
  if (retryMaxMs < retryMinMs) {
    // The one blamed is the one given (the maximum when both are).
    throw reader.given('lnd.retry-max')
      ? reader.invalid(
          'lnd.retry-max',
          `must not be shorter than ${reader.describe('lnd.retry-min')}`,
        )
      : reader.invalid(
          'lnd.retry-min',
          `must not be longer than ${reader.describe('lnd.retry-max')}`,
        );
  }
  return {
    restUrl: reader.required('lnd.rest-url', parseRestUrl),
    macaroonFile: reader.required('lnd.macaroon', (value) => checkMacaroonFile(expandHome(value))),
    tlsCertFile: reader.optional('lnd.tls-cert', (value) =>
      checkCertificateFile(expandHome(value)),
    ),
    timeoutMs: reader.required('lnd.timeout', (value) => parseDurationMs(value, AT_LEAST_100MS)),
    retryMinMs,
    retryMaxMs,
  };
}

/** `~/x` as the shell would expand it: service managers and env files do not. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

/** lnd's REST URL, its path ending in '/' so that `v1/…` resolves under it. */
function parseRestUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidValueError(`"${text}" is not a URL (e.g. https://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidValueError(
      `"${text}" must start with https:// (or, with lnd's --no-rest-tls, http://)`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidValueError(
      `"${url.protocol}//…@${url.host}": credentials in the URL are not used; lnd takes the macaroon`,
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw new InvalidValueError(`"${text}" must not have a query or fragment`);
  }
  // A path is kept as a base (lnd behind a reverse proxy under /lnd/).
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !(value instanceof URL)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

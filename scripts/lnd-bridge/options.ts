import { homedir } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import parseDuration from 'parse-duration';
import { parseNatsServers, parseSubjectPrefix } from '../../src/config/nats-values.js';
import { checkReadableFile } from '../../src/config/readable-file.js';
import { errorMessage } from '../../src/errors.js';

/** A NATS subject token: no dots, wildcards or whitespace. */
const TOKEN = /^[^.*>\s]+$/;

export type BridgeLogFormat = 'json' | 'pretty' | 'auto';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type BridgeLogLevel = (typeof LOG_LEVELS)[number];

/** How NATS authenticates the bridge: at most one way. */
export type BridgeNatsAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'user-password'; readonly user: string; readonly password: string }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'creds'; readonly credsFile: string };

/** Everything the bridge is told: flags and environment, parsed and checked. */
export interface BridgeSettings {
  readonly lnd: {
    /** lnd's REST listener, e.g. https://127.0.0.1:8080 (no path). */
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
  };
  /** The node's name: one subject token, the exporter's `node` label. */
  readonly node: string;
  readonly status: {
    /** Between two checks of lnd, ms: while lnd is up, each publishes `up` (the heartbeat). */
    readonly intervalMs: number;
  };
  readonly nats: {
    readonly servers: readonly string[];
    readonly subjectPrefix: string;
    readonly auth: BridgeNatsAuth;
    /** Defined when TLS is required: --nats.tls, a tls:// server or any TLS file. */
    readonly tls:
      | {
          readonly caFile: string | undefined;
          readonly certFile: string | undefined;
          readonly keyFile: string | undefined;
        }
      | undefined;
    /** Publish events with JetStream (acknowledged by the stream) instead of core NATS. */
    readonly jetstream: boolean;
  };
  readonly log: { readonly level: BridgeLogLevel; readonly format: BridgeLogFormat };
}

/** The bridge's command line: every setting a flag, most also an environment variable. */
export function bridgeCommand(): Command {
  return new Command('lnd-bridge')
    .description(
      "Relay an lnd node's channel and peer events from its REST API to NATS for chanfitness-exporter, " +
        'answer its list_channels / list_peers bootstrap requests, and publish whether lnd is up. ' +
        'A readonly macaroon is enough.',
    )
    .addOption(
      new Option('--lnd.rest-url <url>', "lnd's REST listener (lnd's restlisten)")
        .env('LND_REST_URL')
        .default(new URL('https://127.0.0.1:8080'), 'https://127.0.0.1:8080')
        .argParser(restUrl),
    )
    .addOption(
      new Option(
        '--lnd.macaroon <file>',
        'macaroon file: readonly.macaroon, or one baked with `lncli bakemacaroon info:read offchain:read peers:read`',
      )
        .env('LND_MACAROON')
        .argParser(readableFile)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option(
        '--lnd.tls-cert <file>',
        "lnd's tls.cert, trusted for the REST connection (omit when lnd's REST has a publicly trusted certificate)",
      )
        .env('LND_TLS_CERT')
        .argParser(readableFile),
    )
    .addOption(
      new Option('--lnd.timeout <duration>', 'timeout of a ListChannels / ListPeers / GetInfo call')
        .env('LND_TIMEOUT')
        .default(30_000, '30s')
        .argParser(duration(100)),
    )
    .addOption(
      new Option(
        '--lnd.retry-min <duration>',
        'first delay before reconnecting a stream that failed or ended',
      )
        .env('LND_RETRY_MIN')
        .default(1_000, '1s')
        .argParser(duration(10)),
    )
    .addOption(
      new Option(
        '--lnd.retry-max <duration>',
        'longest delay between reconnections (events lnd sends meanwhile are missed)',
      )
        .env('LND_RETRY_MAX')
        .default(10_000, '10s')
        .argParser(duration(10)),
    )
    .addOption(
      new Option('--node <name>', "the node's name in subjects, metrics and GraphQL (one token)")
        .env('LND_NODE')
        .argParser(nodeName)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option(
        '--status.interval <duration>',
        'how often lnd is checked; while it is up, each check publishes "up" on <prefix>.<node>.status ' +
          "(the heartbeat: keep it well under the exporter's --observer.timeout)",
      )
        .env('STATUS_INTERVAL')
        .default(15_000, '15s')
        .argParser(duration(50)),
    )
    .addOption(
      new Option('--nats.url <urls>', 'NATS servers, comma-separated: nats://host:port or tls://…')
        .env('NATS_URL')
        .default(['nats://127.0.0.1:4222'], 'nats://127.0.0.1:4222')
        .argParser(natsServers),
    )
    .addOption(
      new Option(
        '--nats.subject-prefix <prefix>',
        'subjects are <prefix>.<node>.channel_events, .peer_events, .status, .rpc.list_*',
      )
        .env('NATS_SUBJECT_PREFIX')
        .default('lnd')
        .argParser(subjectPrefix),
    )
    .addOption(
      new Option(
        '--nats.jetstream',
        'publish events and status with JetStream, acknowledged by a stream on their subjects ' +
          '(e.g. the exporter with --nats.stream and --nats.create-stream)',
      ).default(false),
    )
    .addOption(new Option('--nats.user <user>', 'NATS user name').env('NATS_USER'))
    .addOption(
      new Option('--nats.password <password>', 'NATS password (prefer NATS_PASSWORD)').env(
        'NATS_PASSWORD',
      ),
    )
    .addOption(
      new Option('--nats.token <token>', 'NATS token (prefer NATS_TOKEN)')
        .env('NATS_TOKEN')
        .conflicts(['nats.user', 'nats.creds']),
    )
    .addOption(
      new Option('--nats.creds <file>', 'NATS credentials file (.creds)')
        .env('NATS_CREDS')
        .argParser(readableFile)
        .conflicts(['nats.user']),
    )
    .addOption(
      new Option(
        '--nats.tls',
        'require TLS (implied by tls:// servers and --nats.tls-* files)',
      ).default(false),
    )
    .addOption(
      new Option('--nats.tls-ca <file>', 'CA certificates (PEM) to verify the NATS server with')
        .env('NATS_TLS_CA')
        .argParser(readableFile),
    )
    .addOption(
      new Option('--nats.tls-cert <file>', 'client certificate (PEM), with --nats.tls-key')
        .env('NATS_TLS_CERT')
        .argParser(readableFile),
    )
    .addOption(
      new Option('--nats.tls-key <file>', 'client private key (PEM), with --nats.tls-cert')
        .env('NATS_TLS_KEY')
        .argParser(readableFile),
    )
    .addOption(
      new Option('--log.level <level>', 'log level')
        .env('LOG_LEVEL')
        .default('info')
        .choices(LOG_LEVELS),
    )
    .addOption(
      new Option('--log.format <format>', 'json, pretty, or auto (pretty on a terminal)')
        .env('LOG_FORMAT')
        .default('auto')
        .choices(['json', 'pretty', 'auto']),
    );
}

/** The settings a parsed bridgeCommand() holds; cross-flag checks fail through command.error. */
export function bridgeSettings(command: Command): BridgeSettings {
  const o = command.opts<{
    'lnd.restUrl': URL;
    'lnd.macaroon': string;
    'lnd.tlsCert'?: string;
    'lnd.timeout': number;
    'lnd.retryMin': number;
    'lnd.retryMax': number;
    node: string;
    'status.interval': number;
    'nats.url': string[];
    'nats.subjectPrefix': string;
    'nats.jetstream': boolean;
    'nats.user'?: string;
    'nats.password'?: string;
    'nats.token'?: string;
    'nats.creds'?: string;
    'nats.tls': boolean;
    'nats.tlsCa'?: string;
    'nats.tlsCert'?: string;
    'nats.tlsKey'?: string;
    'log.level': BridgeLogLevel;
    'log.format': BridgeLogFormat;
  }>();
  const fail = (message: string): never => command.error(`error: ${message}`, { exitCode: 2 });

  if (o['lnd.retryMax'] < o['lnd.retryMin']) {
    fail('--lnd.retry-max must not be shorter than --lnd.retry-min');
  }
  let auth: BridgeNatsAuth = { kind: 'none' };
  if (o['nats.user'] !== undefined || o['nats.password'] !== undefined) {
    if (o['nats.user'] === undefined || o['nats.password'] === undefined) {
      fail('--nats.user and --nats.password go together');
    }
    auth = {
      kind: 'user-password',
      user: o['nats.user'] ?? '',
      password: o['nats.password'] ?? '',
    };
  } else if (o['nats.token'] !== undefined) {
    auth = { kind: 'token', token: o['nats.token'] };
  } else if (o['nats.creds'] !== undefined) {
    auth = { kind: 'creds', credsFile: o['nats.creds'] };
  }
  if ((o['nats.tlsCert'] === undefined) !== (o['nats.tlsKey'] === undefined)) {
    fail('--nats.tls-cert and --nats.tls-key go together');
  }
  const servers = o['nats.url'];
  const tlsWanted =
    o['nats.tls'] ||
    servers.some((server) => server.startsWith('tls://')) ||
    o['nats.tlsCa'] !== undefined ||
    o['nats.tlsCert'] !== undefined;

  return {
    lnd: {
      restUrl: o['lnd.restUrl'],
      macaroonFile: o['lnd.macaroon'],
      tlsCertFile: o['lnd.tlsCert'],
      timeoutMs: o['lnd.timeout'],
      retryMinMs: o['lnd.retryMin'],
      retryMaxMs: o['lnd.retryMax'],
    },
    node: o.node,
    status: { intervalMs: o['status.interval'] },
    nats: {
      servers,
      subjectPrefix: o['nats.subjectPrefix'],
      auth,
      tls: tlsWanted
        ? { caFile: o['nats.tlsCa'], certFile: o['nats.tlsCert'], keyFile: o['nats.tlsKey'] }
        : undefined,
      jetstream: o['nats.jetstream'],
    },
    log: { level: o['log.level'], format: o['log.format'] },
  };
}

/** `~/x` as the shell would expand it: service managers and env files do not. */
export function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? homedir() + path.slice(1) : path;
}

function readableFile(value: string): string {
  const path = expandHome(value);
  try {
    return checkReadableFile(path);
  } catch (err) {
    throw new InvalidArgumentError(errorMessage(err));
  }
}

function restUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected a URL such as https://127.0.0.1:8080');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InvalidArgumentError(
      'expected an https:// (or, with lnd --no-rest-tls, http://) URL',
    );
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new InvalidArgumentError('expected no credentials, query or fragment in the URL');
  }
  // A path is kept as a base (lnd behind a reverse proxy under /lnd/).
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function nodeName(value: string): string {
  if (!TOKEN.test(value)) {
    throw new InvalidArgumentError('a node name is one subject token (no ".", "*", ">", spaces).');
  }
  return value;
}

function natsServers(value: string): string[] {
  try {
    return parseNatsServers(value);
  } catch (err) {
    throw new InvalidArgumentError(errorMessage(err));
  }
}

function subjectPrefix(value: string): string {
  try {
    return parseSubjectPrefix(value);
  } catch (err) {
    throw new InvalidArgumentError(errorMessage(err));
  }
}

function duration(minMs: number): (value: string) => number {
  return (value) => {
    const ms = parseDuration(value);
    if (ms === null || !Number.isFinite(ms) || ms < minMs) {
      throw new InvalidArgumentError(
        `expected a duration of at least ${minMs} ms, such as 2s or 1m`,
      );
    }
    return ms;
  };
}

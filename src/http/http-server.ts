import { readFile } from 'node:fs/promises';
import {
  createServer as createPlainServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { systemScheduler, type Scheduler } from '../clock.js';
import type { SettingName } from '../config/setting-definitions.js';
import type { ListenAddress, WebAuth, WebTls } from '../config/settings.js';
import { describeSetting } from '../config/settings-reader.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Exposition } from '../metrics/exposition.js';
import { createAuthenticator, type Authenticator } from './auth.js';
import { HttpServerError } from './errors.js';
import { GraphiQLPage, wantsGraphiQL, type RenderPage } from './graphiql-page.js';
import { formatHostPort, isLoopback, type BoundAddress } from './listen-address.js';
import { serveMetrics } from './metrics-route.js';

/** Handles /graphql (graphql-yoga's instance is one); may return a promise. */
export type GraphqlListener = (req: IncomingMessage, res: ServerResponse) => unknown;

/** Whether the service can do its job, and if not, why. */
export interface Readiness {
  readonly ready: boolean;
  readonly reasons: readonly string[];
  /** Lines of state that do not decide readiness (the store's), after the verdict. */
  readonly details?: readonly string[];
}

export interface HttpServerDeps {
  readonly listenAddress: ListenAddress;
  /**
   * What serves /metrics and /graphql. A promise while they are still being built (the
   * service listens before it opens its store): their requests wait for it, and are
   * answered 503 if it rejects.
   */
  readonly exposition: Exposition | Promise<Exposition>;
  readonly graphql: GraphqlListener | Promise<GraphqlListener>;
  /**
   * Renders GraphiQL, which browsers (a GET accepting text/html) then get from here,
   * compressed and cacheable, instead of from `graphql`; absent when GraphiQL is off.
   */
  readonly graphiql?: RenderPage;
  /** Asked on every GET /readyz. */
  readonly readiness: () => Readiness;
  readonly logger: Logger;
  /** Protects /metrics and /graphql; /healthz and /readyz stay open. */
  readonly auth?: WebAuth;
  /** Serve HTTPS instead of HTTP (--web.tls-cert, --web.tls-key). */
  readonly tls?: WebTls | undefined;
  /** How long close() lets in-flight requests finish before cutting them; 10 s by default. */
  readonly closeTimeoutMs?: number;
  /** The close timeout's timer; the system scheduler by default. */
  readonly clock?: Scheduler;
  /** Bounds on slow clients (--web.header-timeout, --web.request-timeout); 10 s and 30 s by default. */
  readonly timeouts?: HttpTimeouts;
}

export interface HttpTimeouts {
  /** The request headers must arrive within this, ms; over HTTPS the TLS handshake gets as long again. */
  readonly headerMs: number;
  /** The whole request, body included, must arrive within this, ms; at least headerMs. */
  readonly requestMs: number;
}

export interface HttpServer {
  /** The address actually bound (the real port when 0 was asked for). */
  readonly address: BoundAddress;
  /** Base URL, e.g. http://127.0.0.1:9766. */
  readonly url: string;
  /**
   * Stops accepting connections, lets in-flight requests finish within the
   * close timeout, then destroys the connections left. Idempotent.
   */
  close(): Promise<void>;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
const DEFAULT_TIMEOUTS: HttpTimeouts = { headerMs: 10_000, requestMs: 30_000 };
/**
 * How often Node looks for requests past their timeouts. Its default (30 s) would let a
 * client trickling bytes hold a connection up to 30 s beyond the timeouts.
 */
const CONNECTIONS_CHECK_MS = 1_000;
/** Idle keep-alive connections are closed after this (Node's default, kept explicit), ms. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const READ_METHODS = ['GET', 'HEAD'];
const TEXT = 'text/plain; charset=utf-8';

/**
 * The HTTP(S) server: /metrics, /graphql, /healthz, /readyz. Resolves once it
 * listens; rejects with a HttpServerError naming the flag at fault.
 */
export async function createHttpServer(deps: HttpServerDeps): Promise<HttpServer> {
  const { logger } = deps;
  const authenticate =
    deps.auth === undefined || deps.auth.kind === 'none'
      ? undefined
      : createAuthenticator(deps.auth);
  const inFlight = new Set<ServerResponse>();
  let closing = false;
  const graphiql = deps.graphiql === undefined ? undefined : new GraphiQLPage(deps.graphiql);

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // A client that goes away must never become an unhandled 'error' event.
    req.on('error', (err) => {
      logger.debug({ err: errorMessage(err) }, 'request stream error');
    });
    res.on('error', (err) => {
      logger.debug({ err: errorMessage(err) }, 'response stream error');
    });
    inFlight.add(res);
    res.on('close', () => {
      inFlight.delete(res);
      // While closing, a connection whose last request just finished is idle: let it go.
      if (closing) {
        setImmediate(() => {
          server.closeIdleConnections();
        });
      }
    });
    if (closing) res.setHeader('Connection', 'close');
    route(req, res).catch((err: unknown) => {
      logger.error({ err, path: pathOf(req) }, 'HTTP request failed');
      if (!res.headersSent) sendText(res, 500, 'internal server error\n');
      else res.destroy();
    });
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = pathOf(req);
    switch (path) {
      case '/healthz':
        if (allowed(req, res, READ_METHODS)) sendText(res, 200, 'ok\n');
        return;
      case '/readyz':
        if (allowed(req, res, READ_METHODS)) serveReadiness(res, deps.readiness, logger);
        return;
      case '/metrics': {
        if (!authorized(req, res, authenticate)) return;
        if (!allowed(req, res, READ_METHODS)) return;
        const exposition = await whenStarted(deps.exposition, res);
        if (exposition !== undefined) await serveMetrics(req, res, exposition, logger);
        return;
      }
      case '/graphql': {
        // Browsers send a CORS preflight without credentials: it carries no data and
        // yoga answers it from the CORS settings, so it must not be refused with a 401.
        if (!isPreflight(req) && !authorized(req, res, authenticate)) return;
        if (graphiql !== undefined && wantsGraphiQL(req)) {
          await graphiql.serve(req, res);
          return;
        }
        const graphql = await whenStarted(deps.graphql, res);
        if (graphql !== undefined) await graphql(req, res);
        return;
      }
      default:
        sendText(res, 404, 'not found\n');
    }
  };

  const options = serverOptions(deps.timeouts ?? DEFAULT_TIMEOUTS);
  const server =
    deps.tls === undefined
      ? createPlainServer(options, handle)
      : await tlsServer(deps.tls, options, handle);
  // A property rather than an option: the option is recent in Node 20.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('tlsClientError', (err: Error) => {
    logger.debug({ err: errorMessage(err) }, 'TLS handshake failed');
  });
  await listen(server, deps.listenAddress);
  server.on('error', (err) => {
    logger.error({ err }, 'HTTP server error');
  });

  const authKind = deps.auth?.kind ?? 'none';
  const bound = server.address() as AddressInfo;
  const address: BoundAddress = { host: bound.address, port: bound.port };
  const url = `${deps.tls === undefined ? 'http' : 'https'}://${formatHostPort(address.host, address.port)}`;
  logger.info({ url, tls: deps.tls !== undefined, auth: authKind }, 'HTTP server listening');
  if (authKind !== 'none' && deps.tls === undefined && !isLoopback(address.host)) {
    logger.warn(
      `HTTP credentials are sent in clear text: set ${describeSetting('web.tls-cert')} and ${describeSetting('web.tls-key')}`,
    );
  }

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      closing = true;
      const timeoutMs = deps.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
      const timer = (deps.clock ?? systemScheduler).after(timeoutMs, () => {
        logger.warn(
          { requests: inFlight.size, timeoutMs },
          'HTTP requests still running at the close timeout: cutting them',
        );
        server.closeAllConnections();
      });
      server.close(() => {
        timer.cancel();
        resolve();
      });
      server.closeIdleConnections();
    });
    return closed;
  };

  return { address, url, close };
}

/**
 * Node enforces both timeouts (408, then the connection is closed) on HTTP and HTTPS
 * alike, counted from the request's first byte; a connection on which nothing comes
 * is cut after the header timeout too (and a kept-alive one by the keep-alive timeout).
 */
function serverOptions(timeouts: HttpTimeouts): ServerOptions {
  return {
    headersTimeout: timeouts.headerMs,
    requestTimeout: timeouts.requestMs,
    connectionsCheckingInterval: Math.min(CONNECTIONS_CHECK_MS, timeouts.headerMs),
  };
}

async function tlsServer(
  files: WebTls,
  options: ServerOptions,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Server> {
  const [cert, key] = await Promise.all([
    readPem(files.certFile, 'web.tls-cert'),
    readPem(files.keyFile, 'web.tls-key'),
  ]);
  try {
    // The connection is tracked for the header timeout only once the handshake is
    // done: the handshake gets the header timeout of its own (Node's default is 120 s).
    return createTlsServer(
      { ...options, cert, key, handshakeTimeout: options.headersTimeout },
      handle,
    );
  } catch (err) {
    throw new HttpServerError(
      'TLS_INVALID',
      `cannot use ${describeSetting('web.tls-cert')} ${files.certFile} with ` +
        `${describeSetting('web.tls-key')} ${files.keyFile}: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}

async function readPem(path: string, setting: SettingName): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new HttpServerError(
      'TLS_FILE_UNREADABLE',
      `cannot read ${describeSetting(setting)} ${path}: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}

function listen(server: Server, address: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(
        new HttpServerError(
          'LISTEN_FAILED',
          `${describeSetting('web.listen-address')}: cannot listen on ${address.address}: ${whyNotListening(err)}`,
          { cause: err },
        ),
      );
    };
    server.once('error', onError);
    // An empty host listens on every interface (IPv6 and IPv4 where available).
    server.listen(
      address.host === undefined
        ? { port: address.port }
        : { host: address.host, port: address.port },
      () => {
        server.off('error', onError);
        resolve();
      },
    );
  });
}

/** Why a bind failed, in the operator's terms for the usual causes. */
function whyNotListening(err: Error): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return 'the address is in use: another program, or another exporter, listens there (EADDRINUSE)';
    case 'EADDRNOTAVAIL':
      return 'it is not an address of this host (EADDRNOTAVAIL)';
    case 'EACCES':
      return 'permission denied: ports below 1024 need privileges (EACCES)';
    default:
      return err.message;
  }
}

/**
 * What serves a route, waited for while the service starts; undefined, the
 * request answered 503, when the start failed (the process is exiting).
 */
async function whenStarted<T>(
  handler: T | Promise<T>,
  res: ServerResponse,
): Promise<T | undefined> {
  try {
    return await handler;
  } catch {
    sendText(res, 503, 'the service did not start\n');
    return undefined;
  }
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}

function allowed(req: IncomingMessage, res: ServerResponse, methods: readonly string[]): boolean {
  if (methods.includes(req.method ?? '')) return true;
  sendText(res, 405, 'method not allowed\n', { Allow: methods.join(', ') });
  return false;
}

function authorized(
  req: IncomingMessage,
  res: ServerResponse,
  authenticate: Authenticator | undefined,
): boolean {
  if (authenticate === undefined) return true;
  const result = authenticate(req.headers.authorization);
  if (result.ok) return true;
  sendText(res, 401, 'unauthorized\n', { 'WWW-Authenticate': result.challenge });
  return false;
}

function serveReadiness(res: ServerResponse, readiness: () => Readiness, logger: Logger): void {
  let state: Readiness;
  try {
    state = readiness();
  } catch (err) {
    logger.error({ err }, 'readiness check failed');
    state = { ready: false, reasons: ['readiness check failed'] };
  }
  const details = (state.details ?? []).map((line) => `${line}\n`).join('');
  if (state.ready) sendText(res, 200, `ok\n${details}`);
  else sendText(res, 503, `not ready: ${state.reasons.join('; ')}\n${details}`);
}

function sendText(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...headers,
    'Content-Type': TEXT,
    'Cache-Control': 'no-store',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** A CORS preflight: OPTIONS with Access-Control-Request-Method. */
function isPreflight(req: IncomingMessage): boolean {
  return req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
}

import { readFile } from 'node:fs/promises';
import {
  createServer as createPlainServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ListenAddress, WebAuth, WebTls } from '../config/settings.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Exposition } from '../metrics/exposition.js';
import { createAuthenticator, type Authenticator } from './auth.js';
import { HttpServerError } from './errors.js';
import { formatHostPort, isLoopback, type BoundAddress } from './listen-address.js';
import { serveMetrics } from './metrics-route.js';

/** Handles /graphql (graphql-yoga's instance is one); may return a promise. */
export type GraphqlListener = (req: IncomingMessage, res: ServerResponse) => unknown;

/** Whether the service can do its job, and if not, why. */
export interface Readiness {
  readonly ready: boolean;
  readonly reasons: readonly string[];
}

export interface HttpServerDeps {
  readonly listenAddress: ListenAddress;
  readonly exposition: Exposition;
  readonly graphql: GraphqlListener;
  /** Asked on every GET /readyz. */
  readonly readiness: () => Readiness;
  readonly logger: Logger;
  /** Protects /metrics and /graphql; /healthz and /readyz stay open. */
  readonly auth?: WebAuth;
  /** Serve HTTPS instead of HTTP (--web.tls-cert, --web.tls-key). */
  readonly tls?: WebTls | undefined;
  /** How long close() lets in-flight requests finish before cutting them; 10 s by default. */
  readonly closeTimeoutMs?: number;
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
      case '/metrics':
        if (!authorized(req, res, authenticate)) return;
        if (!allowed(req, res, READ_METHODS)) return;
        await serveMetrics(req, res, deps.exposition, logger);
        return;
      case '/graphql':
        // Browsers send a CORS preflight without credentials: it carries no data and
        // yoga answers it from the CORS settings, so it must not be refused with a 401.
        if (!isPreflight(req) && !authorized(req, res, authenticate)) return;
        await deps.graphql(req, res);
        return;
      default:
        sendText(res, 404, 'not found\n');
    }
  };

  const server =
    deps.tls === undefined ? createPlainServer(handle) : await tlsServer(deps.tls, handle);
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
    logger.warn('HTTP credentials are sent in clear text: set --web.tls-cert and --web.tls-key');
  }

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      closing = true;
      const timeoutMs = deps.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
      const timer = setTimeout(() => {
        logger.warn(
          { requests: inFlight.size, timeoutMs },
          'HTTP requests still running at the close timeout: cutting them',
        );
        server.closeAllConnections();
      }, timeoutMs);
      server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      server.closeIdleConnections();
    });
    return closed;
  };

  return { address, url, close };
}

async function tlsServer(
  files: WebTls,
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Server> {
  const [cert, key] = await Promise.all([
    readPem(files.certFile, '--web.tls-cert'),
    readPem(files.keyFile, '--web.tls-key'),
  ]);
  try {
    return createTlsServer({ cert, key }, handle);
  } catch (err) {
    throw new HttpServerError(
      'TLS_INVALID',
      `cannot use --web.tls-cert ${files.certFile} with --web.tls-key ${files.keyFile}: ${errorMessage(err)}`,
      { cause: err },
    );
  }
}

async function readPem(path: string, flag: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new HttpServerError(
      'TLS_FILE_UNREADABLE',
      `cannot read ${flag} ${path}: ${errorMessage(err)}`,
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
          `cannot listen on --web.listen-address ${address.address}: ${err.message}`,
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
  if (state.ready) sendText(res, 200, 'ok\n');
  else sendText(res, 503, `not ready: ${state.reasons.join('; ')}\n`);
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

import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { systemScheduler, type Scheduler } from '../../clock.js';
import { LineSplitter } from './line-splitter.js';

/** Largest body of a unary reply read (ListChannels of a very big node is a few MB). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Largest error body read for a log line. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Longest stream line accepted; a line over it ends the stream as broken. */
const MAX_LINE_CHARS = 4 * 1024 * 1024;
/** TCP keep-alive on idle streams, so that a vanished lnd host is noticed. */
const KEEPALIVE_MS = 30_000;

/** What every request carries: read again each time, so that a renewed cert or macaroon is used. */
export interface LndCredentials {
  /** The macaroon, hex: the value of the Grpc-Metadata-macaroon header. Never logged. */
  readonly macaroonHex: string;
  /** lnd's tls.cert (PEM), trusted as the CA; system CAs when undefined. */
  readonly ca: Buffer | undefined;
}

/** Reads the macaroon (binary as lnd writes it, or hex text) and the TLS cert. */
export async function readCredentials(
  macaroonFile: string,
  tlsCertFile: string | undefined,
): Promise<LndCredentials> {
  const macaroon = await readFile(macaroonFile);
  const text = macaroon.toString('latin1').trim();
  const macaroonHex = /^(?:[0-9a-fA-F]{2})+$/.test(text) ? text : macaroon.toString('hex');
  if (macaroonHex === '') throw new Error(`the macaroon file ${macaroonFile} is empty`);
  const ca = tlsCertFile === undefined ? undefined : await readFile(tlsCertFile);
  return { macaroonHex, ca };
}

/** lnd answered with an HTTP error: its gRPC status message when the body has one. */
export class LndHttpError extends Error {
  constructor(
    readonly status: number,
    /** lnd's message (`{"code":…,"message":…}` or a stream's `{"error":{…}}`), if any. */
    readonly lndMessage: string | undefined,
    readonly grpcCode: number | undefined,
  ) {
    super(`HTTP ${status}${lndMessage === undefined ? '' : `: ${lndMessage}`}`);
    this.name = 'LndHttpError';
  }
}

/** A stream line that is not one of lnd's JSON objects, or is over the size limit. */
export class LndStreamError extends Error {
  override name = 'LndStreamError';
}

export interface StreamHandlers {
  /**
   * The request is out on an established connection (TLS handshake done): lnd has
   * it. No reply is visible yet, since lnd's gateway answers only with the first event.
   */
  onConnected?(): void;
  /** The stream is open (lnd's REST proxy sends its headers with the first message or error). */
  onOpen(): void;
  /** One line of the stream, without its newline, with the time its chunk arrived (ms). */
  onLine(line: string, receivedAt: number): void;
}

export interface LndRestClientOptions {
  /** lnd's REST URL, ending in '/'. */
  readonly baseUrl: URL;
  readonly credentials: () => Promise<LndCredentials>;
  /** The receive times and the requests' timeouts; the system scheduler by default. */
  readonly clock?: Scheduler;
}

/**
 * lnd's REST API over node:http(s): unary GETs and lnd's server-streaming GETs,
 * which its gRPC gateway sends as newline-delimited JSON, each object wrapped as
 * `{"result": …}` (or `{"error": …}` when the stream fails).
 */
export class LndRestClient {
  private readonly clock: Scheduler;

  constructor(private readonly options: LndRestClientOptions) {
    this.clock = options.clock ?? systemScheduler;
  }

  /** GETs a unary endpoint (e.g. `v1/channels`): the body of a 200, else LndHttpError. */
  async get(path: string, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    // As AbortSignal.timeout, on the scheduler's timer.
    const timeout = new AbortController();
    const timer = this.clock.after(timeoutMs, () => {
      timeout.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    });
    try {
      const res = await this.request(
        path,
        signal === undefined ? timeout.signal : AbortSignal.any([signal, timeout.signal]),
      );
      if (res.statusCode !== 200) throw await httpError(res);
      return await readBody(res, MAX_BODY_BYTES);
    } finally {
      timer.cancel();
    }
  }

  /**
   * Reads a streaming endpoint (e.g. `v1/peers/subscribe`) line by line until lnd
   * ends it (resolves) or it fails (rejects: LndHttpError for an HTTP error,
   * LndStreamError for a broken stream, a network error, or an AbortError).
   */
  async stream(path: string, handlers: StreamHandlers, signal: AbortSignal): Promise<void> {
    const res = await this.request(path, signal, handlers.onConnected?.bind(handlers));
    if (res.statusCode !== 200) throw await httpError(res);
    handlers.onOpen();
    res.setEncoding('utf8');
    const splitter = new LineSplitter(MAX_LINE_CHARS);
    for await (const chunk of res as AsyncIterable<string>) {
      const receivedAt = this.clock.now();
      let lines: string[];
      try {
        lines = splitter.push(chunk);
      } catch (err) {
        res.destroy();
        throw err;
      }
      for (const line of lines) handlers.onLine(line, receivedAt);
    }
    const last = splitter.end();
    if (last !== undefined) handlers.onLine(last, this.clock.now());
  }

  private async request(
    path: string,
    signal: AbortSignal,
    onConnected?: () => void,
  ): Promise<IncomingMessage> {
    const { macaroonHex, ca } = await this.options.credentials();
    const url = new URL(path, this.options.baseUrl);
    const headers = { 'Grpc-Metadata-macaroon': macaroonHex, Accept: 'application/json' };
    return new Promise((resolve, reject) => {
      const req =
        url.protocol === 'https:'
          ? https.request(url, { method: 'GET', headers, signal, ...(ca ? { ca } : {}) }, resolve)
          : http.request(url, { method: 'GET', headers, signal }, resolve);
      req.once('error', reject);
      req.once('socket', (socket) => {
        socket.setKeepAlive(true, KEEPALIVE_MS);
        if (onConnected === undefined) return;
        // A kept-alive socket is ready; a new one once connected (and TLS negotiated).
        if (req.reusedSocket) onConnected();
        else socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', onConnected);
      });
      req.end();
    });
  }
}

async function readBody(res: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      res.destroy();
      throw new LndStreamError(`reply over ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The error of a non-200 reply, with lnd's message when its body is lnd's error JSON. */
async function httpError(res: IncomingMessage): Promise<LndHttpError> {
  const status = res.statusCode ?? 0;
  let body: Buffer;
  try {
    body = await readBody(res, MAX_ERROR_BODY_BYTES);
  } catch {
    return new LndHttpError(status, undefined, undefined);
  }
  // A stream that fails before its first message sends one `{"error": …}` line.
  const firstLine = body.toString('utf8').split('\n', 1)[0] ?? '';
  const status_ = lndStatus(firstLine);
  return new LndHttpError(status, status_?.message, status_?.code);
}

/**
 * The gRPC status in lnd's error JSON: `{"code":2,"message":"…"}` (unary),
 * `{"error":{"code":…,"message":…}}` (streams; older gateways `grpc_code`).
 */
export function lndStatus(text: string): { message: string; code: number | undefined } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    const trimmed = text.trim();
    return trimmed === '' ? undefined : { message: trimmed.slice(0, 200), code: undefined };
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const inner = record.error;
  const status =
    typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>) : record;
  const message = status.message;
  if (typeof message !== 'string') return undefined;
  const code = status.code ?? status.grpc_code;
  return { message, code: typeof code === 'number' ? code : undefined };
}

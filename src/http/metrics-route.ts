import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { finished } from 'node:stream/promises';
import { constants as zlibConstants, createGzip, type Gzip } from 'node:zlib';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { MetricsError } from '../metrics/errors.js';
import type { Exposition } from '../metrics/exposition.js';
import { TEXT_FORMAT_CONTENT_TYPE } from '../metrics/text-format.js';
import { StreamSink, type TextSink } from '../metrics/text-sink.js';
import { acceptsGzip } from './accept-encoding.js';

/**
 * The response of one scrape, as a text sink. The status line and headers are
 * only committed by the first chunk, so that a failure before any text still
 * gets a clean 500.
 */
class MetricsResponse implements TextSink {
  private sink: StreamSink | undefined;
  private gzip: Gzip | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly compress: boolean,
    private readonly logger: Logger,
  ) {}

  get started(): boolean {
    return this.sink !== undefined;
  }

  write(chunk: Buffer): Promise<void> | undefined {
    return this.start().write(chunk);
  }

  /** Ends the body; resolves once the response is handed to the connection. */
  async end(): Promise<void> {
    this.start();
    (this.gzip ?? this.res).end();
    await finished(this.res);
  }

  abort(): void {
    this.gzip?.destroy();
    this.res.destroy();
  }

  private start(): StreamSink {
    if (this.sink !== undefined) return this.sink;
    const { res } = this;
    res.statusCode = 200;
    res.setHeader('Content-Type', TEXT_FORMAT_CONTENT_TYPE);
    res.setHeader('Vary', 'Accept-Encoding');
    if (!this.compress) {
      this.sink = new StreamSink(res);
      return this.sink;
    }
    res.setHeader('Content-Encoding', 'gzip');
    // Fastest level: the text is repetitive enough to shrink ~10x anyway.
    const gzip = createGzip({ level: zlibConstants.Z_BEST_SPEED });
    pipeline(gzip, res, (err) => {
      // A client gone mid-scrape ends here; the sink sees the close and stops the scrape.
      if (err) this.logger.debug({ err: errorMessage(err) }, 'metrics response closed early');
    });
    this.gzip = gzip;
    this.sink = new StreamSink(gzip);
    return this.sink;
  }
}

/** GET (or HEAD) /metrics: the exposition, gzipped when the client accepts it. */
export async function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  exposition: Exposition,
  logger: Logger,
): Promise<void> {
  if (req.method === 'HEAD') {
    res.writeHead(200, { 'Content-Type': TEXT_FORMAT_CONTENT_TYPE, Vary: 'Accept-Encoding' });
    res.end();
    return;
  }
  const response = new MetricsResponse(res, acceptsGzip(req.headers['accept-encoding']), logger);
  try {
    await exposition.write(response);
    await response.end();
  } catch (err) {
    if (err instanceof MetricsError || res.destroyed) {
      logger.debug({ err: errorMessage(err) }, 'scrape aborted: the client went away');
      response.abort();
      return;
    }
    logger.error({ err }, 'cannot render /metrics');
    if (response.started) {
      // Headers and part of the body are out: cutting the connection is the only way to fail it.
      response.abort();
      return;
    }
    res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('metrics collection failed\n');
  }
}

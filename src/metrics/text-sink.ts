import type { Writable } from 'node:stream';
import { MetricsError } from './errors.js';

/** Where exposition text goes, chunk by chunk (UTF-8); a returned promise is backpressure. */
export interface TextSink {
  write(chunk: Buffer): Promise<void> | undefined;
}

/** Collects the text in memory (tests, benchmarks, renderToString). */
export class StringSink implements TextSink {
  private readonly chunks: Buffer[] = [];

  write(chunk: Buffer): undefined {
    this.chunks.push(chunk);
    return undefined;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/**
 * Writes to a stream (an HTTP response, a gzip stream), waiting for 'drain'
 * when the stream's buffer is full. Rejects with SCRAPE_ABORTED once the
 * stream is closed or failed, so that the scrape stops instead of building
 * text nobody reads.
 */
export class StreamSink implements TextSink {
  constructor(private readonly stream: Writable) {}

  write(chunk: Buffer): Promise<void> | undefined {
    const { stream } = this;
    if (stream.destroyed || stream.writableEnded) {
      return Promise.reject(aborted('the destination closed'));
    }
    if (stream.write(chunk)) return undefined;
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        stream.off('drain', onDrain);
        stream.off('close', onClose);
        stream.off('error', onError);
      };
      const onDrain = (): void => {
        cleanup();
        resolve();
      };
      const onClose = (): void => {
        cleanup();
        reject(aborted('the destination closed'));
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(aborted(`the destination failed: ${err.message}`, err));
      };
      stream.on('drain', onDrain);
      stream.on('close', onClose);
      stream.on('error', onError);
    });
  }
}

function aborted(reason: string, cause?: Error): MetricsError {
  return new MetricsError('SCRAPE_ABORTED', `scrape aborted: ${reason}`, { cause });
}

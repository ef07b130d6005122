import type { TextSink } from './text-sink.js';

/** About 64 KiB of text per chunk: large enough to be cheap, small enough to never block. */
export const DEFAULT_CHUNK_CHARS = 64 * 1024;

/** Lets timers, I/O and other requests run before the scrape goes on. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Accumulates exposition text and hands it to a sink in chunks, yielding to the
 * event loop after each chunk so that a scrape of any size never holds the
 * loop for long. Collectors append lines synchronously and await flush() only
 * when add() says the chunk is full (an await per line would cost more than
 * the line).
 */
export class ChunkedTextWriter {
  private buffer = '';

  constructor(
    private readonly sink: TextSink,
    private readonly chunkChars: number = DEFAULT_CHUNK_CHARS,
  ) {}

  /** Appends text; true when the chunk is full and flush() must be awaited. */
  add(text: string): boolean {
    this.buffer += text;
    return this.buffer.length >= this.chunkChars;
  }

  /** Hands the chunk to the sink (waiting for its backpressure), then yields. */
  async flush(): Promise<void> {
    if (this.buffer.length > 0) await this.sink.write(this.take());
    await yieldToEventLoop();
  }

  /** Characters of text per chunk: what a collector that encodes its own chunks sizes them by. */
  get chunkSize(): number {
    return this.chunkChars;
  }

  /** Hands text already encoded (UTF-8) to the sink after the text added so far, then yields. */
  async addEncoded(chunk: Buffer): Promise<void> {
    if (this.buffer.length > 0) await this.sink.write(this.take());
    if (chunk.length > 0) await this.sink.write(chunk);
    await yieldToEventLoop();
  }

  /** Hands what is left to the sink. */
  async end(): Promise<void> {
    if (this.buffer.length > 0) await this.sink.write(this.take());
  }

  /**
   * The chunk, encoded. The text built by += is a rope of thousands of small
   * strings; encoding it at once turns it into one flat buffer, so that the
   * rope dies young instead of burdening the garbage collector while a
   * consumer keeps the chunk.
   */
  private take(): Buffer {
    const chunk = Buffer.from(this.buffer, 'utf8');
    this.buffer = '';
    return chunk;
  }
}

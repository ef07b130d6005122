/** One server-sent event: its `event:` field (`message` when absent) and its data lines joined. */
export interface SseEvent {
  readonly event: string;
  readonly data: string;
}

/**
 * Reads server-sent events from a response body, as an SSE client does:
 * comments (yoga's `:` pings) are skipped, fields are `event:` and `data:`.
 */
export class SseReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private ended = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** The next event; undefined once the stream has ended. Rejects after timeoutMs. */
  async next(timeoutMs = 5_000): Promise<SseEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = this.take();
      if (event !== undefined) return event;
      if (this.ended) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no server-sent event within ${timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => {
            resolve('timeout');
          }, left);
        }),
      ]);
      clearTimeout(timer);
      if (chunk === 'timeout') throw new Error(`no server-sent event within ${timeoutMs} ms`);
      if (chunk.done) this.ended = true;
      else this.buffer += this.decoder.decode(chunk.value, { stream: true });
    }
  }

  /** The data of the next `next` event, parsed; fails on anything else. */
  async nextResult<T = unknown>(timeoutMs?: number): Promise<T> {
    const event = await this.next(timeoutMs);
    if (event?.event !== 'next')
      throw new Error(`expected a next event, got ${JSON.stringify(event)}`);
    return JSON.parse(event.data) as T;
  }

  /** Stops reading: the connection is let go. */
  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => undefined);
  }

  private take(): SseEvent | undefined {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end < 0) return undefined;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      let fields = 0;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        fields += 1;
        if (name === 'event') event = value;
        else if (name === 'data') data.push(value);
      }
      if (fields > 0) return { event, data: data.join('\n') };
    }
  }
}

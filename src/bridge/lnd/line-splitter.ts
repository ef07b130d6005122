/** A line longer than the limit: the stream is not lnd's newline-delimited JSON. */
export class LineTooLongError extends Error {
  override name = 'LineTooLongError';
}

/**
 * Splits decoded text chunks into lines, whatever the chunk boundaries. A
 * trailing `\r` is dropped and blank lines are skipped (grpc-gateway versions
 * differ in their delimiters). A partial line longer than maxChars is an error,
 * so that a stream without newlines cannot grow memory without bound.
 */
export class LineSplitter {
  private partial = '';

  constructor(private readonly maxChars: number) {}

  /** The lines the chunk completes. */
  push(chunk: string): string[] {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    if (this.partial.length > this.maxChars) {
      this.partial = '';
      throw new LineTooLongError(`a stream line is over ${this.maxChars} characters`);
    }
    const lines: string[] = [];
    for (const part of parts) {
      const line = part.endsWith('\r') ? part.slice(0, -1) : part;
      if (line.trim() !== '') lines.push(line);
    }
    return lines;
  }

  /** The last line if the stream ended without a newline after it. */
  end(): string | undefined {
    const rest = this.partial.trim();
    this.partial = '';
    return rest === '' ? undefined : rest;
  }
}

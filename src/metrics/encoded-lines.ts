import { escapeLabelValue } from './text-format.js';

/** Any UTF-16 code unit takes at most 3 bytes of UTF-8, and an escape doubles a character. */
const MAX_BYTES_PER_CHAR = 3;
const NEWLINE = 0x0a;

/**
 * Exposition lines written straight into UTF-8 chunks, for a family whose
 * samples repeat long label sets (a channel's, once per window): the label set
 * is encoded once and copied for the next samples. Lines built as strings
 * would make a rope of several strings per line, each garbage once the chunk
 * is encoded.
 */
export class EncodedLines {
  private chunk: Buffer;
  private at = 0;

  constructor(private readonly chunkBytes: number) {
    this.chunk = Buffer.allocUnsafe(chunkBytes);
  }

  /** Bytes written since the last take(). */
  get length(): number {
    return this.at;
  }

  /**
   * Makes room for `bytes` more bytes. Undefined when the chunk has it;
   * otherwise the bytes written so far (maybe none), to hand over before
   * writing on in a new chunk.
   */
  reserve(bytes: number): Buffer | undefined {
    if (this.at + bytes <= this.chunk.length) return undefined;
    const full = this.take();
    if (bytes > this.chunk.length)
      this.chunk = Buffer.allocUnsafe(Math.max(bytes, this.chunkBytes));
    return full;
  }

  /** The bytes written so far, handed over (the next lines go to a new chunk). */
  take(): Buffer {
    const full = this.chunk.subarray(0, this.at);
    this.chunk = Buffer.allocUnsafe(this.chunkBytes);
    this.at = 0;
    return full;
  }

  /** Encoded bytes, e.g. a metric name and label names. */
  bytes(encoded: Uint8Array): void {
    this.chunk.set(encoded, this.at);
    this.at += encoded.length;
  }

  /** ASCII text (a formatted number). */
  ascii(text: string): void {
    const chunk = this.chunk;
    let at = this.at;
    for (let i = 0; i < text.length; i++) chunk[at++] = text.charCodeAt(i);
    this.at = at;
  }

  /** A label value, escaped, as UTF-8. */
  labelValue(value: string): void {
    this.at += this.chunk.write(escapeLabelValue(value), this.at, 'utf8');
  }

  /** Copies bytes already written since the last take() (a label set), at the end. */
  repeat(from: number, to: number): void {
    this.chunk.copyWithin(this.at, from, to);
    this.at += to - from;
  }

  /** A newline. */
  newline(): void {
    this.chunk[this.at++] = NEWLINE;
  }
}

/** At most the bytes labelValue() writes for this value. */
export function labelValueBound(value: string): number {
  return value.length * MAX_BYTES_PER_CHAR;
}

import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';

/** A stream a logger writes to, read back by the test. */
export interface CapturedOutput {
  readonly destination: Writable;
  /** Every line written so far, parsed as JSON. */
  readonly lines: () => Record<string, unknown>[];
  /** Everything written so far, raw. */
  readonly text: () => string;
}

export function captureOutput(): CapturedOutput {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw.push(chunk.toString());
      callback();
    },
  });
  const text = (): string => raw.join('');
  return {
    destination,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

export interface CapturedLog {
  readonly logger: Logger;
  /** Every line written so far, parsed. */
  readonly lines: () => Record<string, unknown>[];
  /** Everything written so far, raw. */
  readonly text: () => string;
}

/** A JSON logger whose lines the test reads back. */
export function captureLogger(level: 'info' | 'debug' | 'warn' = 'info'): CapturedLog {
  const output = captureOutput();
  return {
    logger: createLogger({ level, format: 'json', destination: output.destination }),
    lines: output.lines,
    text: output.text,
  };
}

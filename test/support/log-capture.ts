import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';

export interface CapturedLog {
  readonly logger: Logger;
  /** Every line written so far, parsed. */
  lines(): Record<string, unknown>[];
  /** Everything written so far, raw. */
  text(): string;
}

/** A JSON logger whose lines the test reads back. */
export function captureLogger(level: 'info' | 'debug' | 'warn' = 'info'): CapturedLog {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw.push(chunk.toString());
      callback();
    },
  });
  return {
    logger: createLogger({ level, format: 'json', destination }),
    lines: () =>
      raw
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    text: () => raw.join(''),
  };
}

import { HISTORY_FORMAT, HistoryCorruptError, HistoryFormatError } from './history-format.js';

/**
 * Checks of persisted values as they are decoded: each returns the value
 * when it is what it should be and throws a HistoryFormatError or
 * HistoryCorruptError naming `what` otherwise.
 */

export function checkFormat(v: unknown, what: string): void {
  if (v !== HISTORY_FORMAT) {
    throw new HistoryFormatError(
      `${what}: format ${String(v)}, this version reads ${HISTORY_FORMAT}`,
    );
  }
}

export function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HistoryCorruptError(`${what}: not an object`);
  }
  return value as Record<string, unknown>;
}

export function str(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '')
    throw new HistoryCorruptError(`${what}: not a string`);
  return value;
}

export function num(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new HistoryCorruptError(`${what}: not a number`);
  }
  return value;
}

export function int(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new HistoryCorruptError(`${what}: not a non-negative integer`);
  }
  return value as number;
}

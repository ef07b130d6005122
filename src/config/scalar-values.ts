import { InvalidValueError } from './settings-error.js';

const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

/** true/false, 1/0, yes/no, in any case. */
export function parseBoolean(text: string): boolean {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new InvalidValueError(`"${text}" is not a boolean (true/false, 1/0, yes/no)`);
}

/** A whole number written in decimal digits, at least `min`. */
export function parseInteger(text: string, min: number): number {
  const trimmed = text.trim();
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    throw new InvalidValueError(`"${text}" is not a whole number`);
  }
  if (value < min) {
    throw new InvalidValueError(`${value} is less than the minimum ${min}`);
  }
  return value;
}

/** One of a fixed set of words. */
export function parseChoice<T extends string>(text: string, choices: readonly T[]): T {
  const found = choices.find((choice) => choice === text.trim());
  if (found === undefined) {
    throw new InvalidValueError(`"${text}" is not one of ${choices.join(', ')}`);
  }
  return found;
}

/** Comma-separated items, trimmed; an empty item is an error. */
export function splitList(text: string): string[] {
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) {
    throw new InvalidValueError(`"${text}" has an empty item in its comma-separated list`);
  }
  return items;
}

import { DecodeError } from './decode-error.js';

const MS_PER_MINUTE = 60_000;
const MS_PER_HOUR = 3_600_000;
const MS_PER_DAY = 86_400_000;
const NANOS_PER_MS = 1_000_000;
/** Length of `YYYY-MM-DDTHH:MM:SS`. */
const DATE_TIME_LENGTH = 19;
/** Digits of the fraction that count: nanoseconds; more are truncated, as Go's time.Parse does. */
const FRACTION_DIGITS = 9;

/**
 * Parses an RFC 3339 timestamp (`2024-05-01T12:00:00Z`,
 * `2024-05-01T12:00:00.123456789+02:00`; `t` and `z` may be lower case) into
 * milliseconds since the epoch.
 *
 * The fraction of a second is kept as a fraction of a millisecond. A float64 at
 * today's ~1.7e12 ms steps by ~0.24 µs, so event times are kept at microsecond
 * resolution; nanosecond digits are read but their last places are rounded away.
 *
 * Stricter than Date.parse, which drops digits and accepts non-RFC forms: the
 * offset is required, impossible dates (month 13, Feb 30 outside leap years,
 * hour 24) and leap seconds (second 60, which lnd's Go parser rejects too) are
 * refused.
 */
export function parseTimestamp(value: unknown, field = 'timestamp'): number {
  const ms = typeof value === 'string' ? rfc3339ToMs(value) : undefined;
  if (ms === undefined) {
    throw new DecodeError(
      'invalid_timestamp',
      `${field}: expected an RFC 3339 timestamp such as 2024-05-01T12:00:00.000000000Z`,
    );
  }
  return ms;
}

/** Milliseconds since the epoch, or undefined when value is not RFC 3339. */
export function rfc3339ToMs(value: string): number | undefined {
  const length = value.length;
  if (length < DATE_TIME_LENGTH + 1) return undefined;
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const day = digits(value, 8, 2);
  const hour = digits(value, 11, 2);
  const minute = digits(value, 14, 2);
  const second = digits(value, 17, 2);
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59 ||
    value.charCodeAt(4) !== 0x2d || // '-'
    value.charCodeAt(7) !== 0x2d ||
    (value.charCodeAt(10) | 0x20) !== 0x74 || // 'T' or 't'
    value.charCodeAt(13) !== 0x3a || // ':'
    value.charCodeAt(16) !== 0x3a
  ) {
    return undefined;
  }

  let i = DATE_TIME_LENGTH;
  let nanos = 0;
  if (value.charCodeAt(i) === 0x2e) {
    // '.': at least one digit
    const start = ++i;
    while (i < length) {
      const digit = value.charCodeAt(i) - 0x30;
      if (digit < 0 || digit > 9) break;
      if (i - start < FRACTION_DIGITS) nanos = nanos * 10 + digit;
      i++;
    }
    const count = i - start;
    if (count === 0) return undefined;
    for (let scale = count; scale < FRACTION_DIGITS; scale++) nanos *= 10;
  }

  let offsetMs: number;
  if ((value.charCodeAt(i) | 0x20) === 0x7a) {
    // 'Z' or 'z'
    if (i + 1 !== length) return undefined;
    offsetMs = 0;
  } else {
    const sign = value.charCodeAt(i);
    if ((sign !== 0x2b && sign !== 0x2d) || i + 6 !== length) return undefined; // '+' | '-'
    const offsetHour = digits(value, i + 1, 2);
    const offsetMinute = digits(value, i + 4, 2);
    if (
      offsetHour < 0 ||
      offsetHour > 23 ||
      offsetMinute < 0 ||
      offsetMinute > 59 ||
      value.charCodeAt(i + 3) !== 0x3a
    ) {
      return undefined;
    }
    offsetMs = (sign === 0x2d ? -1 : 1) * (offsetHour * MS_PER_HOUR + offsetMinute * MS_PER_MINUTE);
  }

  const whole =
    daysFromCivil(year, month, day) * MS_PER_DAY +
    hour * MS_PER_HOUR +
    minute * MS_PER_MINUTE +
    second * 1000 -
    offsetMs;
  return whole + nanos / NANOS_PER_MS;
}

/**
 * The RFC 3339 form of a time in UTC: milliseconds, or microseconds when the
 * time has a sub-millisecond part (the resolution event times are kept at).
 */
export function formatTimestamp(ms: number): string {
  const whole = Math.floor(ms);
  const micros = Math.round((ms - whole) * 1000);
  if (micros === 0) return new Date(whole).toISOString();
  if (micros === 1000) return new Date(whole + 1).toISOString();
  const iso = new Date(whole).toISOString();
  return `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z`;
}

/** The decimal number in value[at, at + count), or -1 when those are not all digits. */
function digits(value: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const digit = value.charCodeAt(i) - 0x30;
    // Past the end of the string, charCodeAt gives NaN: not a digit either.
    if (!(digit >= 0 && digit <= 9)) return -1;
    n = n * 10 + digit;
  }
  return n;
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

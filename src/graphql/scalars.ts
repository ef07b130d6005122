import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { parseDurationMs } from '../config/durations.js';
import { InvalidValueError } from '../config/settings-error.js';
import { formatTimestamp, rfc3339ToMs } from '../lnd/timestamp.js';

function invalidDateTime(value: unknown, nodes?: ValueNode): GraphQLError {
  const shown = typeof value === 'string' ? JSON.stringify(value) : 'a non-string value';
  return new GraphQLError(
    `DateTime must be an RFC 3339 date-time with an offset, such as "2024-05-01T12:00:00Z"; got ${shown}`,
    { extensions: { code: 'BAD_USER_INPUT' }, ...(nodes === undefined ? {} : { nodes }) },
  );
}

function parseDateTime(value: unknown, nodes?: ValueNode): number {
  const ms = typeof value === 'string' ? rfc3339ToMs(value) : undefined;
  if (ms === undefined) throw invalidDateTime(value, nodes);
  return ms;
}

/**
 * DateTime: milliseconds since the epoch inside; RFC 3339 in UTC outside, with
 * milliseconds (microseconds when an event time has them). Input is parsed as
 * strictly as event timestamps are (offset required, no impossible dates, no
 * leap seconds); a bad value is BAD_USER_INPUT.
 */
export const DateTimeScalar = new GraphQLScalarType<number, string>({
  name: 'DateTime',
  serialize(value: unknown): string {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new TypeError(`DateTime cannot represent ${String(value)}`);
    }
    return formatTimestamp(value);
  },
  parseValue(value: unknown): number {
    return parseDateTime(value);
  },
  parseLiteral(ast: ValueNode): number {
    return parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined, ast);
  },
});

function invalidDuration(reason: string, nodes?: ValueNode): GraphQLError {
  return new GraphQLError(
    `Duration must be a positive length of time such as "28d", "168h" or "1h30m": ${reason}`,
    { extensions: { code: 'BAD_USER_INPUT' }, ...(nodes === undefined ? {} : { nodes }) },
  );
}

function parseDuration(value: unknown, nodes?: ValueNode): number {
  if (typeof value !== 'string') throw invalidDuration('got a non-string value', nodes);
  try {
    // The settings' parser: stricter than parse-duration alone (no bare numbers, known units).
    return parseDurationMs(value, { minMs: 0, minText: '0s' });
  } catch (err) {
    if (err instanceof InvalidValueError) throw invalidDuration(err.message, nodes);
    throw err;
  }
}

/** Units a Duration is written in, largest first. */
const DURATION_UNITS: readonly (readonly [unit: string, ms: number])[] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

/** A duration in ms as its input reads it: largest units first, zero terms left out ("1d2h"). */
export function formatDuration(ms: number): string {
  let rest = ms;
  let text = '';
  for (const [unit, size] of DURATION_UNITS) {
    const count = unit === 'ms' ? rest : Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text === '' ? '0s' : text;
}

/**
 * Duration: milliseconds inside; outside, a positive length of time in the
 * notation of the settings (Go's and parse-duration's: "28d", "168h",
 * "1h30m"). A bare number, an unknown or upper-case unit, zero or a negative
 * value is BAD_USER_INPUT.
 */
export const DurationScalar = new GraphQLScalarType<number, string>({
  name: 'Duration',
  serialize(value: unknown): string {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TypeError(`Duration cannot represent ${String(value)}`);
    }
    return formatDuration(value);
  },
  parseValue(value: unknown): number {
    return parseDuration(value);
  },
  parseLiteral(ast: ValueNode): number {
    return parseDuration(ast.kind === Kind.STRING ? ast.value : undefined, ast);
  },
});

import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
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

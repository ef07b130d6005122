import { inspect } from 'node:util';
import { GraphQLError } from 'graphql';
import type { YogaLogger } from 'graphql-yoga';
import type { Logger } from '../log/logger.js';

type Level = 'debug' | 'info' | 'warn' | 'error';

function forward(logger: Logger, level: Level, args: unknown[]): void {
  // Yoga logs on hot paths at debug: build nothing for a disabled level.
  if (!logger.isLevelEnabled(level)) return;
  const [first] = args;
  if (first instanceof GraphQLError) {
    // What yoga masked for the client: the original error and where it happened.
    logger[level](
      { err: first.originalError ?? first, path: first.path?.join('.') },
      'GraphQL resolver failed unexpectedly; the client was told "Unexpected error."',
    );
    return;
  }
  if (first instanceof Error) {
    logger[level]({ err: first }, first.message);
    return;
  }
  logger[level](args.map((arg) => (typeof arg === 'string' ? arg : inspect(arg))).join(' '));
}

/** Yoga's logger on top of ours. */
export function yogaLogger(logger: Logger): YogaLogger {
  return {
    debug: (...args: unknown[]) => {
      forward(logger, 'debug', args);
    },
    info: (...args: unknown[]) => {
      forward(logger, 'info', args);
    },
    warn: (...args: unknown[]) => {
      forward(logger, 'warn', args);
    },
    error: (...args: unknown[]) => {
      forward(logger, 'error', args);
    },
  };
}

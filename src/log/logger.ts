import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export type LogFormat = 'json' | 'pretty' | 'auto';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Keys whose values never reach a log line, wherever they appear. */
const SECRET_PATHS = [
  'password',
  'token',
  'creds',
  'authorization',
  '*.password',
  '*.token',
  '*.creds',
  '*.authorization',
  '*.*.password',
  '*.*.token',
  '*.*.authorization',
  // The lnd bridge's macaroon (it never logs one: a safety net).
  'macaroon',
  '*.macaroon',
];

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Where lines go; standard output when absent (tests pass a stream to read them). */
  readonly destination?: NodeJS.WritableStream;
  /** The `service` of every line, telling programs apart in a shared log store. */
  readonly service?: string;
  /** More fields of every line (the lnd bridge's `node`). */
  readonly bindings?: Readonly<Record<string, string>>;
}

/**
 * Structured JSON logs (pino), human-readable on a terminal: 'auto' pretty-prints
 * when standard output is a TTY.
 */
export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.format === 'pretty' || (options.format === 'auto' && process.stdout.isTTY);
  const base = {
    level: options.level,
    base: { service: options.service ?? 'chanfitness-exporter', ...options.bindings },
    redact: { paths: SECRET_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (pretty && options.destination === undefined) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' },
      },
    });
  }
  return options.destination === undefined
    ? pino(base)
    : pino(base, options.destination as pino.DestinationStream);
}

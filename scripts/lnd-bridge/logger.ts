import { pino, type Logger } from 'pino';
import type { BridgeLogFormat, BridgeLogLevel } from './options.js';

/** Keys whose values never reach a log line (the bridge never logs them; this is a safety net). */
const SECRET_PATHS = ['macaroon', 'macaroonHex', 'password', 'token', '*.macaroon', '*.password'];

/**
 * The bridge's structured logs (pino): JSON, or human-readable on a terminal
 * ('auto'); `service` tells them from the exporter's in a shared log store.
 */
export function createBridgeLogger(
  level: BridgeLogLevel,
  format: BridgeLogFormat,
  node: string,
  destination?: NodeJS.WritableStream,
): Logger {
  const options = {
    level,
    base: { service: 'chanfitness-lnd-bridge', node },
    redact: { paths: SECRET_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY);
  if (pretty && destination === undefined) {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' },
      },
    });
  }
  return destination === undefined
    ? pino(options)
    : pino(options, destination as pino.DestinationStream);
}

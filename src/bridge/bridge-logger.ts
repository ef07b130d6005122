import { createLogger, type LogFormat, type Logger, type LogLevel } from '../log/logger.js';

/** The service name on every line of the bridge's log, and the start of its NATS connection name. */
export const BRIDGE_SERVICE = 'chanfitness-lnd-bridge';

/**
 * The bridge's structured logs: the exporter's logger (pino, JSON unless a terminal
 * asks for pretty, secrets redacted), each line with `service` and the `node` bridged.
 */
export function createBridgeLogger(
  level: LogLevel,
  format: LogFormat,
  node: string,
  destination?: NodeJS.WritableStream,
): Logger {
  return createLogger({
    level,
    format,
    service: BRIDGE_SERVICE,
    bindings: { node },
    ...(destination === undefined ? {} : { destination }),
  });
}

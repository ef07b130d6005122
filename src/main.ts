#!/usr/bin/env node
import type { App } from './app.js';
import { systemScheduler } from './clock.js';
import { describeSettings } from './config/describe-settings.js';
import { packageVersion } from './config/package-version.js';
import { parseSettings } from './config/parse-settings.js';
import {
  EXIT_BAD_SETTING,
  EXIT_FAILURE,
  limitStop,
  readSettingsOrExit,
  watchForCrashes,
} from './entry-point.js';
import { CodedError, errorMessage } from './errors.js';
import { createLogger } from './log/logger.js';

const PROGRAM = 'chanfitness-exporter';

/**
 * Errors of start-up that are really a setting the operator must fix; their
 * messages name it. (A Redis or PostgreSQL server that is down is not one: the
 * service starts and keeps retrying it.)
 */
const SETTING_ERROR_CODES = new Set([
  'INVALID_STORE_URL',
  // --store.url: the SQLite file (or its folder) cannot be created or opened.
  'STORE_OPEN_FAILED',
  'INVALID_LISTEN_ADDRESS',
  // --web.listen-address: the address is in use, not on this host, or not allowed.
  'LISTEN_FAILED',
  'TLS_FILE_UNREADABLE',
  'TLS_INVALID',
]);

async function main(): Promise<void> {
  const settings = readSettingsOrExit(PROGRAM, () =>
    parseSettings(process.argv.slice(2), process.env),
  );
  const logger = createLogger(settings.log);
  logger.info(
    { version: packageVersion(), settings: describeSettings(settings) },
    `starting ${PROGRAM}`,
  );
  watchForCrashes(logger);

  // Signals are taken from before the start: HTTP listens (and says so) before the store is
  // open, and a stop asked meanwhile is still an orderly one, once the start is done.
  let app: App | undefined;
  let stopping = false;
  // Read through a function: set by the signal handler, which flow analysis does not see.
  const stopRequested = (): boolean => stopping;
  const stopApp = (running: App): void => {
    running.stop().then(
      () => {
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err: errorMessage(err) }, 'stop failed');
        logger.flush();
        process.exit(EXIT_FAILURE);
      },
    );
  };
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'signal received');
    limitStop(logger, systemScheduler);
    if (app !== undefined) stopApp(app);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  try {
    // Loaded only now: --help, --version and bad settings answer without loading the service.
    const { startApp } = await import('./app.js');
    app = await startApp({ settings, logger, clock: systemScheduler });
  } catch (err) {
    const code = err instanceof CodedError ? (err as CodedError).code : undefined;
    const setting = code !== undefined && SETTING_ERROR_CODES.has(code);
    logger.fatal({ err: errorMessage(err), code }, 'cannot start');
    logger.flush();
    // Said where a bad setting found while parsing is said, too.
    if (setting) process.stderr.write(`${PROGRAM}: ${errorMessage(err)}\n`);
    process.exit(setting ? EXIT_BAD_SETTING : EXIT_FAILURE);
  }
  // A signal came while starting.
  if (stopRequested()) stopApp(app);
}

void main();

#!/usr/bin/env node
import type { App } from './app.js';
import { systemScheduler } from './clock.js';
import { describeSettings } from './config/describe-settings.js';
import { packageVersion } from './config/package-version.js';
import { parseSettings } from './config/parse-settings.js';
import type { Settings } from './config/settings.js';
import { SettingsError } from './config/settings-error.js';
import { CodedError, errorMessage } from './errors.js';
import { createLogger, type Logger } from './log/logger.js';

/** Exit code for a bad setting (as flag parsers do), distinct from a failure at run time. */
const EXIT_BAD_SETTING = 2;
const EXIT_FAILURE = 1;
/** A stop that takes longer than this is cut short: orchestrators allow about 10 s. */
const STOP_LIMIT_MS = 9_000;

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

function readSettings(): Settings {
  try {
    const result = parseSettings(process.argv.slice(2), process.env);
    if (result.kind !== 'settings') {
      process.stdout.write(result.text);
      process.exit(0);
    }
    return result.settings;
  } catch (err) {
    if (err instanceof SettingsError) {
      process.stderr.write(`chanfitness-exporter: ${err.message}\n`);
      process.stderr.write('Run with --help for every setting.\n');
      process.exit(EXIT_BAD_SETTING);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const settings = readSettings();
  const logger = createLogger(settings.log);
  logger.info(
    { version: packageVersion(), settings: describeSettings(settings) },
    'starting chanfitness-exporter',
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
    systemScheduler
      .after(STOP_LIMIT_MS, () => {
        logger.error(`stop took longer than ${STOP_LIMIT_MS} ms: exiting now`);
        logger.flush();
        process.exit(EXIT_FAILURE);
      })
      .unref();
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
    if (setting) process.stderr.write(`chanfitness-exporter: ${errorMessage(err)}\n`);
    process.exit(setting ? EXIT_BAD_SETTING : EXIT_FAILURE);
  }
  // A signal came while starting.
  if (stopRequested()) stopApp(app);
}

/**
 * A promise nobody awaited must not take the service down (it keeps
 * monitoring); an exception nobody caught leaves state unknown: exit.
 */
function watchForCrashes(logger: Logger): void {
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: errorMessage(reason) }, 'unhandled promise rejection');
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    logger.flush();
    process.exit(EXIT_FAILURE);
  });
}

void main();

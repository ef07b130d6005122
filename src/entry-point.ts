/**
 * What the two programs' entry points (src/main.ts, src/bridge/main.ts) share:
 * their exit codes, reading settings with `--help` and bad settings answered,
 * the crash watch, and the limit on a stop.
 */
import type { Scheduler } from './clock.js';
import { SettingsError } from './config/settings-error.js';
import { errorMessage } from './errors.js';
import type { Logger } from './log/logger.js';

/** Exit code for a bad setting (as flag parsers do), distinct from a failure at run time. */
export const EXIT_BAD_SETTING = 2;
export const EXIT_FAILURE = 1;
/** A stop that takes longer than this is cut short: orchestrators allow about 10 s. */
export const STOP_LIMIT_MS = 9_000;

/** The part of `process` an entry point uses, injected so that tests can watch it. */
export interface ProcessPort {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  on(event: 'uncaughtException', listener: (err: Error) => void): unknown;
  exit(code: number): never;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** What a settings parser returns: the settings, or the text of `--help` or `--version`. */
export type ParsedCommandLine<S> =
  | { readonly kind: 'settings'; readonly settings: S }
  | { readonly kind: 'help' | 'version'; readonly text: string };

/**
 * The settings, or the process exits: 0 after printing `--help` or `--version`,
 * 2 after naming a bad setting. Other errors are bugs and go up.
 */
export function readSettingsOrExit<S>(
  program: string,
  parse: () => ParsedCommandLine<S>,
  proc: ProcessPort = process,
): S {
  try {
    const result = parse();
    if (result.kind !== 'settings') {
      proc.stdout.write(result.text);
      return proc.exit(0);
    }
    return result.settings;
  } catch (err) {
    if (err instanceof SettingsError) {
      proc.stderr.write(`${program}: ${err.message}\n`);
      proc.stderr.write('Run with --help for every setting.\n');
      return proc.exit(EXIT_BAD_SETTING);
    }
    throw err;
  }
}

/**
 * A promise nobody awaited must not take the program down (it keeps monitoring
 * or relaying); an exception nobody caught leaves state unknown: exit.
 */
export function watchForCrashes(logger: Logger, proc: ProcessPort = process): void {
  proc.on('unhandledRejection', (reason) => {
    logger.error({ err: errorMessage(reason) }, 'unhandled promise rejection');
  });
  proc.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    logger.flush();
    proc.exit(EXIT_FAILURE);
  });
}

/**
 * Starts the limit on a stop: past STOP_LIMIT_MS the program says so and exits
 * with a failure. The timer alone does not keep the process running.
 */
export function limitStop(
  logger: Logger,
  scheduler: Scheduler,
  proc: Pick<ProcessPort, 'exit'> = process,
): void {
  scheduler
    .after(STOP_LIMIT_MS, () => {
      logger.error(`stop took longer than ${STOP_LIMIT_MS} ms: exiting now`);
      logger.flush();
      proc.exit(EXIT_FAILURE);
    })
    .unref();
}

import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { SettingsError } from '../../src/config/settings-error.js';
import {
  EXIT_BAD_SETTING,
  EXIT_FAILURE,
  limitStop,
  readSettingsOrExit,
  STOP_LIMIT_MS,
  watchForCrashes,
  type ProcessPort,
} from '../../src/entry-point.js';
import { captureLogger } from '../support/log-capture.js';
import { TestClock } from '../support/test-clock.js';

/** Thrown by the fake process's exit, as the real one never returns. */
class Exited extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

function fakeProcess() {
  const events = new EventEmitter();
  const out: string[] = [];
  const err: string[] = [];
  const proc: ProcessPort & { emit: EventEmitter['emit'] } = {
    on: (event: string, listener: (...args: never[]) => void) =>
      events.on(event, listener as (...args: unknown[]) => void),
    emit: (event: string | symbol, ...args: unknown[]) => events.emit(event, ...args),
    exit: (code: number): never => {
      throw new Exited(code);
    },
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text) },
  };
  return { proc, out, err };
}

function exitCode(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof Exited) return e.code;
    throw e;
  }
  assert.fail('expected an exit');
}

describe('entry point', () => {
  describe('readSettingsOrExit', () => {
    it('returns the settings', () => {
      const { proc } = fakeProcess();
      const settings = readSettingsOrExit(
        'prog',
        () => ({ kind: 'settings', settings: { port: 1 } }),
        proc,
      );
      assert.deepEqual(settings, { port: 1 });
    });

    it('prints --help and exits 0', () => {
      const { proc, out } = fakeProcess();
      const code = exitCode(() =>
        readSettingsOrExit('prog', () => ({ kind: 'help', text: 'Usage: prog\n' }), proc),
      );
      assert.equal(code, 0);
      assert.deepEqual(out, ['Usage: prog\n']);
    });

    it('names a bad setting on standard error and exits 2', () => {
      const { proc, err } = fakeProcess();
      const code = exitCode(() =>
        readSettingsOrExit(
          'prog',
          () => {
            throw new SettingsError('INVALID_SETTING', '--a.b: must be a number', '--a.b', 'A_B');
          },
          proc,
        ),
      );
      assert.equal(code, EXIT_BAD_SETTING);
      assert.equal(err[0], 'prog: --a.b: must be a number\n');
      assert.match(err[1] ?? '', /--help/);
    });

    it('lets any other error go up', () => {
      const { proc } = fakeProcess();
      assert.throws(
        () =>
          readSettingsOrExit(
            'prog',
            () => {
              throw new TypeError('a bug');
            },
            proc,
          ),
        TypeError,
      );
    });
  });

  describe('watchForCrashes', () => {
    it('logs a promise nobody awaited and keeps running', () => {
      const { proc } = fakeProcess();
      const log = captureLogger();
      watchForCrashes(log.logger, proc);
      proc.emit('unhandledRejection', new Error('lost'));
      const line = log.lines().find((l) => l.msg === 'unhandled promise rejection');
      assert.equal(line?.err, 'lost');
    });

    it('logs an uncaught exception as fatal and exits 1', () => {
      const { proc } = fakeProcess();
      const log = captureLogger();
      watchForCrashes(log.logger, proc);
      const code = exitCode(() => proc.emit('uncaughtException', new Error('boom')));
      assert.equal(code, EXIT_FAILURE);
      const line = log.lines().find((l) => l.msg === 'uncaught exception');
      assert.equal(line?.level, 60);
    });
  });

  describe('limitStop', () => {
    it('exits 1 once the stop has taken STOP_LIMIT_MS, not before', () => {
      const clock = new TestClock(0);
      const log = captureLogger();
      const exits: number[] = [];
      limitStop(log.logger, clock, {
        exit: (code: number): never => {
          exits.push(code);
          return undefined as never;
        },
      });
      clock.advance(STOP_LIMIT_MS - 1);
      assert.deepEqual(exits, []);
      clock.advance(1);
      assert.deepEqual(exits, [EXIT_FAILURE]);
      assert.ok(log.lines().some((l) => /stop took longer/.test(String(l.msg))));
    });
  });
});

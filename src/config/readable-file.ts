import { accessSync, constants, statSync } from 'node:fs';

import { errorMessage } from '../errors.js';
import { InvalidValueError } from './settings-error.js';

/**
 * A path that names a readable regular file now, so that a typo fails at start-up
 * rather than at the first (re)connection. The path is returned as given.
 */
export function checkReadableFile(path: string): string {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (err) {
    const missing = err instanceof Error && 'code' in err && err.code === 'ENOENT';
    throw new InvalidValueError(
      missing ? `file "${path}" does not exist` : `cannot read "${path}": ${errorMessage(err)}`,
    );
  }
  if (!isFile) {
    throw new InvalidValueError(`"${path}" is not a file`);
  }
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new InvalidValueError(`file "${path}" is not readable`);
  }
  return path;
}

import { statSync } from 'node:fs';
import { checkReadableFile } from '../../config/readable-file.js';
import { InvalidValueError } from '../../config/settings-error.js';

/** A macaroon is a few hundred bytes; a bigger file is the wrong one (and is not read). */
const MAX_MACAROON_BYTES = 64 * 1024;

/**
 * A readable, non-empty macaroon file of at most 64 KiB (lnd writes them binary;
 * hex text is taken too), checked at start-up so that the wrong path fails there
 * rather than at every connection to lnd. Its contents are never quoted.
 */
export function checkMacaroonFile(path: string): string {
  checkReadableFile(path);
  const { size } = statSync(path);
  if (size === 0) throw new InvalidValueError(`"${path}" is empty: not a macaroon`);
  if (size > MAX_MACAROON_BYTES) {
    throw new InvalidValueError(`"${path}" is ${size} bytes: not a macaroon`);
  }
  return path;
}

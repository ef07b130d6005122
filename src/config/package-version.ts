import { readFileSync } from 'node:fs';

import { CodedError } from '../errors.js';

// Two levels up from src/config/ (tsx) and from dist/config/ (built): the package root.
const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

let cached: string | undefined;

/** The `version` of this package's package.json. */
export function packageVersion(): string {
  if (cached === undefined) {
    const parsed: unknown = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8'));
    const version =
      typeof parsed === 'object' && parsed !== null && 'version' in parsed
        ? parsed.version
        : undefined;
    if (typeof version !== 'string') {
      throw new CodedError('NO_PACKAGE_VERSION', `no version in ${PACKAGE_JSON.pathname}`);
    }
    cached = version;
  }
  return cached;
}

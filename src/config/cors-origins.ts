import { InvalidValueError } from './settings-error.js';
import { splitList } from './scalar-values.js';

/**
 * `*`, or comma-separated http(s) origins, normalized the way browsers send them
 * (lower-case host, no default port, no trailing slash).
 */
export function parseCorsOrigins(text: string): string[] {
  const items = splitList(text);
  if (items.includes('*')) {
    if (items.length > 1) {
      throw new InvalidValueError(`"*" allows every origin and cannot be listed with others`);
    }
    return ['*'];
  }
  return [...new Set(items.map(parseOrigin))];
}

function parseOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidValueError(`"${text}" is not an origin (e.g. https://grafana.example.com)`);
  }
  const bare =
    url.pathname === '/' &&
    url.search === '' &&
    url.hash === '' &&
    url.username === '' &&
    url.password === '';
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !bare) {
    throw new InvalidValueError(
      `"${text}" is not an origin: http(s)://host[:port], without path (e.g. https://grafana.example.com)`,
    );
  }
  return url.origin;
}

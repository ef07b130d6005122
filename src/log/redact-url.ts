/** Query parameters whose values are secrets (`?password=`, `?sslkey=`, `?token=`…). */
const SECRET_PARAM = /pass|secret|token|key/i;
const MASK = '***';

/**
 * A URL fit for a log line or an error message: the password of its user
 * information and secret query parameters masked. Text that is not a URL has
 * everything between the scheme and the authority's last `@` masked.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, `$1${MASK}@`);
  }
  let changed = false;
  if (parsed.password !== '') {
    parsed.password = MASK;
    changed = true;
  }
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) {
      parsed.searchParams.set(name, MASK);
      changed = true;
    }
  }
  return changed ? parsed.toString() : url;
}

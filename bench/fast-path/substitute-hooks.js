/**
 * The module hooks of substitute-register.js: a module resolved to one of the
 * listed originals resolves to its substitute instead, except when the
 * substitute itself imports the original (to re-export what it keeps).
 */
import { join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolvePath(fileURLToPath(import.meta.url), '..', '..', '..');
/** Original file URL -> substitute file URL. */
let substitutes = new Map();

/** @param {string} data */
export function initialize(data) {
  /** @type {Record<string, string>} */
  const table = JSON.parse(data);
  substitutes = new Map(
    Object.entries(table).map(([from, to]) => [
      pathToFileURL(join(root, from)).href,
      pathToFileURL(join(root, to)).href,
    ]),
  );
}

/** @param {string} url */
function withoutQuery(url) {
  const at = url.indexOf('?');
  return at < 0 ? url : url.slice(0, at);
}

/**
 * @param {string} specifier
 * @param {{ parentURL?: string }} context
 * @param {(specifier: string, context: object) => Promise<{ url: string }>} nextResolve
 */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const substitute = substitutes.get(withoutQuery(resolved.url));
  if (substitute === undefined) return resolved;
  if (context.parentURL !== undefined && withoutQuery(context.parentURL) === substitute) {
    return resolved;
  }
  return { ...resolved, url: substitute, shortCircuit: true };
}

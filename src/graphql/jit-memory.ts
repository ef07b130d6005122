import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';

/*
 * What compiling a query keeps outside our bounded caches, released here.
 * Imported for its effects, before graphql-jit is loaded (server.ts imports it
 * first). Measured per distinct document compiled (a 175-character query):
 *
 * - V8's compilation cache keeps every source given to `new Function` with
 *   its compiled code, about 37 KB: graphql-jit compiles each query so. V8
 *   drops these only when the heap is nearly full, so distinct documents
 *   filled hundreds of megabytes. The
 *   cache only pays off for a source compiled twice, which the caches of
 *   compiled documents already avoid: it is turned off for the process.
 * - graphql-jit memoizes a helper with lodash.memoize keyed by arrays it makes
 *   afresh for each query, in a Map that is never emptied, about 3 KB. Its
 *   memoize cache becomes a WeakMap for object keys (lodash's documented way
 *   to replace it): an entry then lives as long as its key.
 */

setFlagsFromString('--no-compilation-cache');

/** lodash.memoize's cache: a WeakMap for object keys, a Map for the others. */
class WeakKeyCache {
  private objects = new WeakMap<object, unknown>();
  private readonly primitives = new Map<unknown, unknown>();

  has(key: unknown): boolean {
    return isObject(key) ? this.objects.has(key) : this.primitives.has(key);
  }

  get(key: unknown): unknown {
    return isObject(key) ? this.objects.get(key) : this.primitives.get(key);
  }

  set(key: unknown, value: unknown): this {
    if (isObject(key)) this.objects.set(key, value);
    else this.primitives.set(key, value);
    return this;
  }

  delete(key: unknown): boolean {
    return isObject(key) ? this.objects.delete(key) : this.primitives.delete(key);
  }

  clear(): void {
    this.objects = new WeakMap();
    this.primitives.clear();
  }
}

function isObject(key: unknown): key is object {
  return (typeof key === 'object' && key !== null) || typeof key === 'function';
}

/** lodash.memoize as graphql-jit resolves it. */
const fromJit = createRequire(createRequire(import.meta.url).resolve('graphql-jit'));
const memoize = fromJit('lodash.memoize') as { Cache?: unknown };
memoize.Cache = WeakKeyCache;

/** The cache class graphql-jit's memoized helpers get (for the tests). */
export const JIT_MEMOIZE_CACHE = WeakKeyCache;

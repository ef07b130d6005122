import assert from 'node:assert/strict';
import { parse, type GraphQLError } from 'graphql';
import sinon from 'sinon';
import { BoundedCache, type CacheBounds } from '../../src/graphql/bounded-cache.js';
import {
  CompiledQueryCache,
  type VerifiedOperation,
} from '../../src/graphql/compiled-operations.js';
import {
  DEFAULT_DOCUMENT_CACHE_BOUNDS,
  compiledBytes,
  ParseCaches,
  parsedBytes,
  parseErrorBytes,
  type DocumentCacheBounds,
} from '../../src/graphql/document-caches.js';
import { channelPoint, Harness, pubkey, T0 } from './harness.js';

const UNBOUNDED = 1e12;

/** Distinct valid documents of one length (the alias varies). */
function doc(i: number): string {
  return `{ n${String(i).padStart(4, '0')}: nodes { id channelCount } }`;
}

/** Distinct documents that do not parse. */
function broken(i: number): string {
  return `{ n${String(i).padStart(4, '0')}: nodes { id `;
}

function parseError(source: string): GraphQLError {
  try {
    parse(source);
  } catch (err) {
    return err as GraphQLError;
  }
  throw new Error(`${source} parsed`);
}

function bounds(parsed: CacheBounds, parseErrors: CacheBounds, compiled: CacheBounds) {
  return { parsed, parseErrors, compiled } satisfies DocumentCacheBounds;
}

function jitEntry(): Parameters<CompiledQueryCache['set']>[1] {
  return { query: () => ({ data: {} }), stringify: JSON.stringify };
}

const operation: VerifiedOperation = { cost: 0 };

describe('document caches', () => {
  describe('estimates', () => {
    it('weighs a document parsed, compiled, and a parse error, from its length', () => {
      assert.equal(parsedBytes('{ nodes { id } }'), 4 * 1024 + 16 * 192);
      assert.equal(compiledBytes('{ nodes { id } }'), 24 * 1024 + 16 * 1024);
      assert.equal(parseErrorBytes('{ nodes'), 8 * 1024 + 7 * 64);
    });

    it('keeps the default bounds of all the caches together well under 64 MiB', () => {
      const { parsed, parseErrors, compiled } = DEFAULT_DOCUMENT_CACHE_BOUNDS;
      // The compiled queries and the verified operations have a bound each.
      const total = parsed.maxBytes + parseErrors.maxBytes + 2 * compiled.maxBytes;
      assert.ok(total <= 40 * 1024 * 1024, `${total}`);
      for (const b of [parsed, parseErrors, compiled]) assert.ok(b.maxEntries >= 256);
    });
  });

  describe("yoga's parse caches", () => {
    it('evict documents by entries', () => {
      const caches = new ParseCaches(
        bounds({ maxEntries: 3, maxBytes: UNBOUNDED }, DEFAULT_DOCUMENT_CACHE_BOUNDS.parseErrors, {
          maxEntries: 3,
          maxBytes: UNBOUNDED,
        }),
      );
      for (let i = 0; i < 10; i++) caches.documents.set(doc(i), parse(doc(i)));
      assert.equal(caches.documents.size, 3);
      assert.ok(caches.documents.get(doc(9)) !== undefined);
      assert.equal(caches.documents.get(doc(0)), undefined);
    });

    it('evict documents by estimated bytes', () => {
      const maxBytes = Math.floor(parsedBytes(doc(0)) * 2.5);
      const caches = new ParseCaches(
        bounds({ maxEntries: 1000, maxBytes }, DEFAULT_DOCUMENT_CACHE_BOUNDS.parseErrors, {
          maxEntries: 1000,
          maxBytes,
        }),
      );
      for (let i = 0; i < 10; i++) caches.documents.set(doc(i), parse(doc(i)));
      assert.equal(caches.documents.size, 2);
      assert.equal(caches.documents.bytes, 2 * parsedBytes(doc(0)));
      // A document too large for the bound on its own is not kept.
      const large = `{ ${'nodes { id } '.repeat(30)}}`;
      caches.documents.set(large, parse(large));
      assert.equal(caches.documents.get(large), undefined);
      assert.equal(caches.documents.size, 2);
    });

    it('evict parse errors by entries and by estimated bytes', () => {
      const byEntries = new ParseCaches(
        bounds(
          DEFAULT_DOCUMENT_CACHE_BOUNDS.parsed,
          { maxEntries: 4, maxBytes: UNBOUNDED },
          {
            maxEntries: 1,
            maxBytes: UNBOUNDED,
          },
        ),
      );
      const byBytes = new ParseCaches(
        bounds(
          DEFAULT_DOCUMENT_CACHE_BOUNDS.parsed,
          { maxEntries: 1000, maxBytes: 3 * parseErrorBytes(broken(0)) },
          { maxEntries: 1, maxBytes: UNBOUNDED },
        ),
      );
      for (let i = 0; i < 10; i++) {
        byEntries.errors.set(broken(i), parseError(broken(i)));
        byBytes.errors.set(broken(i), parseError(broken(i)));
      }
      assert.equal(byEntries.errors.size, 4);
      assert.equal(byBytes.errors.size, 3);
      assert.equal(byBytes.errors.bytes, 3 * parseErrorBytes(broken(0)));
    });
  });

  describe('compiled queries and verified operations', () => {
    it('evict by entries', () => {
      const cache = new CompiledQueryCache({ maxEntries: 3, maxBytes: UNBOUNDED });
      for (let i = 0; i < 10; i++) {
        cache.set(doc(i), jitEntry());
        cache.operations.set(`\u0000${doc(i)}`, operation);
      }
      assert.equal(cache.size, 3);
      assert.equal(cache.operations.size, 3);
      assert.ok(cache.get(doc(9)) !== undefined);
      assert.equal(cache.get(doc(0)), undefined);
    });

    it('evict by estimated bytes', () => {
      const maxBytes = Math.floor(compiledBytes(`\u0000${doc(0)}`) * 4.5);
      const cache = new CompiledQueryCache({ maxEntries: 1000, maxBytes });
      for (let i = 0; i < 10; i++) {
        cache.set(doc(i), jitEntry());
        cache.operations.set(`\u0000${doc(i)}`, operation);
      }
      assert.equal(cache.size, 4);
      assert.equal(cache.bytes, 4 * compiledBytes(doc(0)));
      assert.equal(cache.operations.size, 4);
      assert.ok(cache.operations.bytes <= maxBytes);
    });
  });

  describe('in the server', () => {
    let sets: sinon.SinonSpy<[string, unknown], void>;
    let gets: sinon.SinonSpy<[string], unknown>;

    beforeEach(() => {
      sets = sinon.spy(BoundedCache.prototype, 'set');
      gets = sinon.spy(BoundedCache.prototype, 'get');
    });
    afterEach(() => {
      sinon.restore();
    });

    /** Every cache the server stored in so far. */
    function cachesUsed(): Set<BoundedCache<unknown>> {
      return new Set(sets.thisValues as BoundedCache<unknown>[]);
    }

    async function flood(h: Harness, count: number): Promise<void> {
      for (let i = 0; i < count; i++) {
        const answer = await h.query(doc(i));
        assert.equal(answer.status, 200, JSON.stringify(answer));
        assert.equal((await h.query(broken(i))).status, 400);
      }
    }

    it('keeps each of its four caches within its entry bound', async () => {
      const entries = (maxEntries: number): CacheBounds => ({ maxEntries, maxBytes: UNBOUNDED });
      const h = new Harness({
        deps: { documentCaches: bounds(entries(5), entries(4), entries(3)) },
      });
      await flood(h, 20);
      const used = [...cachesUsed()];
      assert.equal(used.length, 4, 'parsed documents, parse errors, compiled queries, operations');
      assert.deepEqual(
        used.map((c) => c.size).sort((a, b) => a - b),
        [3, 3, 4, 5],
      );
    });

    it('keeps each of its four caches within its byte bound', async () => {
      const h = new Harness({
        deps: {
          documentCaches: bounds(
            { maxEntries: 1000, maxBytes: 5 * compiledBytes(doc(0)) },
            { maxEntries: 1000, maxBytes: 4 * parseErrorBytes(broken(0)) },
            // The operations' keys carry the operation name before the document.
            { maxEntries: 1000, maxBytes: 3 * compiledBytes(`\u0000${doc(0)}`) },
          ),
        },
      });
      await flood(h, 20);
      const used = [...cachesUsed()];
      assert.equal(used.length, 4);
      assert.deepEqual(
        used.map((c) => c.size).sort((a, b) => a - b),
        [3, 3, 4, 5],
      );
      for (const cache of used) assert.ok(cache.bytes <= cache.bounds.maxBytes);
    });

    it("adds a document's validation errors to its estimate", async () => {
      const parsed: CacheBounds = { maxEntries: 1000, maxBytes: UNBOUNDED };
      const h = new Harness({
        deps: { documentCaches: { parsed } },
      });
      const invalid = `{ ${Array.from({ length: 30 }, (_, i) => `f${i}`).join(' ')} }`;
      const answer = await h.query(invalid);
      assert.equal(answer.errors?.length, 30);
      const documents = [...cachesUsed()].find((c) => c.bounds === parsed);
      assert.ok(documents !== undefined);
      assert.equal(documents.bytes, parsedBytes(invalid) + 30 * 4 * 1024);
      // The cached validation result is used again without counting twice.
      await h.query(invalid);
      assert.equal(documents.bytes, parsedBytes(invalid) + 30 * 4 * 1024);
    });

    it('answers a repeated document from its caches, storing nothing again', async () => {
      const h = new Harness();
      await h.open(pubkey(1), channelPoint(1), T0);
      const query = `query ($cp: String!) { channel(channelPoint: $cp) { channelPoint lifetimeSeconds peer { pubkey } } }`;
      const first = await h.query(query, { cp: channelPoint(1) });
      assert.equal(first.errors, undefined);
      const stored = sets.callCount;
      assert.ok(stored >= 3, 'parsed, compiled and verified at first');
      gets.resetHistory();
      for (let i = 0; i < 5; i++)
        assert.deepEqual(await h.query(query, { cp: channelPoint(1) }), first);
      assert.equal(sets.callCount, stored, 'nothing parsed or compiled again');
      assert.ok(gets.callCount >= 5);
      assert.ok(
        gets.returnValues.every((v) => v !== undefined),
        'every lookup a hit',
      );
    });

    it('weighs a compiled document in the parse cache as its compiled query (kept with it)', async () => {
      const parsed: CacheBounds = { maxEntries: 1000, maxBytes: UNBOUNDED };
      const h = new Harness({ deps: { documentCaches: { parsed } } });
      assert.equal((await h.query(doc(1))).status, 200);
      const documents = [...cachesUsed()].find((c) => c.bounds === parsed);
      assert.equal(documents?.bytes, compiledBytes(doc(1)));
    });

    it('answers each operation of a document of several with its own result', async () => {
      const h = new Harness();
      const query = 'query One { nodes { id } } query Two { channels { totalCount } }';
      const run = async (operationName: string): Promise<unknown> =>
        (await (await h.post({ query, operationName })).json()) as unknown;
      const one = { data: { nodes: [{ id: 'alice' }] } };
      const two = { data: { channels: { totalCount: 0 } } };
      for (let i = 0; i < 2; i++) {
        assert.deepEqual(await run('Two'), two);
        assert.deepEqual(await run('One'), one);
      }
    });

    it('runs a document too large to be kept compiled on graphql-js, keeping it parsed', async () => {
      const query = `{ nodes { id channelCount peerCount onlinePeerCount } }`;
      const parsed: CacheBounds = { maxEntries: 1000, maxBytes: UNBOUNDED };
      const compiled: CacheBounds = { maxEntries: 10, maxBytes: compiledBytes(query) - 1 };
      const h = new Harness({ deps: { documentCaches: { parsed, compiled } } });
      const reference = await new Harness().query(query);
      assert.deepEqual(await h.query(query), reference);
      assert.deepEqual(await h.query(query), reference);
      const used = [...cachesUsed()];
      assert.deepEqual(
        used.filter((c) => c.bounds === compiled),
        [],
        'nothing compiled to be kept',
      );
      const documents = used.find((c) => c.bounds === parsed);
      assert.equal(documents?.size, 1);
      assert.equal(documents.bytes, parsedBytes(query));
    });
  });
});

import assert from 'node:assert/strict';
import { DEFAULT_DOCUMENT_CACHE_BOUNDS } from '../../src/graphql/document-caches.js';
import type { ExporterProcess } from '../support/exporter-process.js';
import { HealthWatch } from '../support/health-watch.js';
import { randomToken, sampleValue, scrape, startExporter } from './support.js';

/**
 * A hostile GraphQL client against the real process: documents the API cannot
 * run get clear 4xx answers and no error-level log lines, and distinct
 * documents by the thousand do not grow the heap past the caches' bounds;
 * /healthz answers within 500 ms all along.
 */

const MIB = 1024 * 1024;

/** Runs task(0 … count-1), `concurrency` at a time. */
async function pool(
  count: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

interface Answer {
  readonly status: number;
  readonly errors: { message: string; extensions?: { code?: string } }[];
  readonly data?: unknown;
}

async function send(
  exporter: ExporterProcess,
  request: { method: 'GET' | 'POST'; query: string; accept?: string },
): Promise<Answer> {
  const accept = request.accept ?? 'application/json';
  const response =
    request.method === 'GET'
      ? await fetch(`${exporter.url}/graphql?query=${encodeURIComponent(request.query)}`, {
          headers: { accept },
        })
      : await fetch(`${exporter.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept },
          body: JSON.stringify({ query: request.query }),
        });
  const body = (await response.json()) as { errors?: Answer['errors']; data?: unknown };
  return { status: response.status, errors: body.errors ?? [], data: body.data };
}

describe('GraphQL against a hostile client (real process)', function () {
  this.timeout(120_000);

  describe('documents the API cannot run', () => {
    let exporter: ExporterProcess | undefined;
    before(async () => {
      exporter = await startExporter({ prefix: randomToken('abuse'), args: ['--log.level=info'] });
    });
    after(async () => {
      await exporter?.dispose();
    });

    interface Case {
      readonly name: string;
      readonly request: { method: 'GET' | 'POST'; query: string; accept?: string };
      readonly code: string;
      readonly message: RegExp;
      /** 400 unless said. */
      readonly status?: number;
    }

    const CASES: readonly Case[] = [
      {
        name: 'a mutation',
        request: { method: 'POST', query: 'mutation { x }' },
        code: 'OPERATION_NOT_SUPPORTED',
        message: /^this API has no mutations\b/,
      },
      {
        name: 'a subscription that does not accept server-sent events',
        request: {
          method: 'POST',
          query: 'subscription { peerEvents { pubkey } }',
          accept: 'application/graphql-response+json',
        },
        code: 'EVENT_STREAM_REQUIRED',
        message: /^a subscription is answered as a stream of server-sent events\b/,
        status: 406,
      },
      {
        name: 'a mutation by GET',
        request: { method: 'GET', query: 'mutation { x }' },
        code: 'OPERATION_NOT_SUPPORTED',
        message: /^this API has no mutations\b/,
      },
      {
        name: 'more validation errors than graphql-js reports',
        request: {
          method: 'POST',
          query: `{ ${Array.from({ length: 150 }, (_, i) => `f${i}`).join(' ')} }`,
        },
        code: 'TOO_MANY_VALIDATION_ERRORS',
        message: /validation stopped after 100 errors \(graphql-js's maxErrors\)/,
      },
      {
        name: '1000 duplicated fields',
        request: { method: 'POST', query: `{ ${'nodes { id } '.repeat(1000)}}` },
        code: 'DOCUMENT_TOO_COMPLEX',
        message: /500,000 comparisons of same-named fields/,
      },
    ];

    for (const c of CASES) {
      it(`answers ${c.name} ${c.status ?? 400} ${c.code} with a clear message`, async () => {
        const answer = await send(exporter!, c.request);
        assert.equal(answer.status, c.status ?? 400, JSON.stringify(answer));
        const last = answer.errors.at(-1);
        assert.equal(last?.extensions?.code, c.code, JSON.stringify(answer));
        assert.match(last.message, c.message);
      });
    }

    it('answers 200 of them without an error-level line or one line each, /healthz responsive', async () => {
      const linesBefore = exporter!.logs().length;
      const stderrBefore = exporter!.stderr.length;
      const health = new HealthWatch(exporter!.url);
      await pool(200, 4, async (i) => {
        const c = CASES[i % CASES.length]!;
        const answer = await send(exporter!, c.request);
        assert.equal(answer.status, c.status ?? 400);
        assert.equal(answer.errors.at(-1)?.extensions?.code, c.code);
      });
      await health.stop(3);
      const lines = exporter!.logs().slice(linesBefore);
      const errors = exporter!.logs().filter((line) => Number(line['level']) >= 50);
      assert.deepEqual(errors, [], 'no error-level line');
      assert.ok(lines.length <= 5, `${lines.length} log lines for 200 requests`);
      assert.equal(exporter!.stderr.slice(stderrBefore), '', 'nothing printed to stderr');
    });
  });

  describe('distinct documents by the thousand', () => {
    let exporter: ExporterProcess | undefined;
    before(async () => {
      exporter = await startExporter({
        prefix: randomToken('docs'),
        args: ['--log.level=info'],
        // A heap limit makes V8 collect garbage before it piles up, so that the
        // heap measured is what is kept; an unbounded cache would exhaust it.
        env: { NODE_OPTIONS: '--max-old-space-size=192' },
      });
    });
    after(async () => {
      await exporter?.dispose();
    });

    /** Document i: GraphiQL's default query with an alias of its own (about 110 KB each unbounded). */
    function document(i: number): string {
      return `{ c${i}: channels(first: 20) { totalCount nodes { node channelPoint lifetimeSeconds uptimeRatio peer { pubkey online flapCount lastFlap } } pageInfo { endCursor hasNextPage } } }`;
    }

    async function run(i: number): Promise<void> {
      const answer = await send(exporter!, { method: 'POST', query: document(i) });
      assert.equal(answer.status, 200, JSON.stringify(answer));
      assert.deepEqual(answer.errors, []);
    }

    async function heapUsed(): Promise<{ heap: number; rss: number }> {
      const families = await scrape(exporter!);
      return {
        heap: sampleValue(families, 'nodejs_heap_size_used_bytes') ?? NaN,
        rss: sampleValue(families, 'process_resident_memory_bytes') ?? NaN,
      };
    }

    it('keeps the heap growth of 4000 distinct documents within the caches’ bounds, /healthz responsive', async () => {
      // Warm up: what the first documents compile once for all (graphql-jit, V8) is not growth.
      await pool(100, 4, (i) => run(1_000_000 + i));
      const before = await heapUsed();
      const health = new HealthWatch(exporter!.url);
      await pool(4_000, 4, run);
      await health.stop(10);
      const after = await heapUsed();
      // The caches hold at most their byte bounds (estimates above what they keep);
      // 24 MiB more for garbage not collected yet. Unbounded, the same documents
      // grew the heap by over 400 MB (110 KB each), or exhausted this one.
      const { parsed, parseErrors, compiled } = DEFAULT_DOCUMENT_CACHE_BOUNDS;
      const bound = parsed.maxBytes + parseErrors.maxBytes + 2 * compiled.maxBytes + 24 * MIB;
      const grown = after.heap - before.heap;
      const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
      assert.ok(
        grown < bound,
        `heap grew ${mb(grown)} (bound ${mb(bound)}); resident memory ${mb(after.rss - before.rss)}`,
      );
    });
  });
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  acceptsEventStream,
  GRAPHQL_JS_FIELD_COMPARISONS,
  GRAPHQL_JS_FRAGMENT_SPREADS,
  GRAPHQL_JS_MAX_ERRORS,
} from '../../src/graphql/refusals.js';
import { captureLogger } from '../support/log-capture.js';
import { Harness, type GraphQLErrorJson } from './harness.js';

/** Accept headers of the two JSON answers: yoga answers validation errors 200 to the second. */
const ACCEPTS = ['application/graphql-response+json', 'application/json'] as const;

interface Answer {
  readonly status: number;
  readonly errors: GraphQLErrorJson[];
}

async function post(h: Harness, query: string, accept: string): Promise<Answer> {
  const response = await h.post({ query }, { accept });
  const body = (await response.json()) as { errors?: GraphQLErrorJson[] };
  return { status: response.status, errors: body.errors ?? [] };
}

async function get(h: Harness, query: string): Promise<Answer & { allow: string | null }> {
  const response = await h.server.fetch(
    `http://localhost/graphql?query=${encodeURIComponent(query)}`,
    { headers: { accept: 'application/json' } },
  );
  const body = (await response.json()) as { errors?: GraphQLErrorJson[] };
  return {
    status: response.status,
    errors: body.errors ?? [],
    allow: response.headers.get('allow'),
  };
}

function only(answer: Answer): GraphQLErrorJson {
  assert.equal(answer.errors.length, 1, JSON.stringify(answer));
  return answer.errors[0]!;
}

/** 1000 copies of one field with a selection: graphql-js's field comparisons run out. */
const DUPLICATED_FIELDS = `{ ${'nodes { id } '.repeat(1000)}}`;
/** A subscription the schema has. */
const SUBSCRIPTION = 'subscription { peerEvents { pubkey } }';
/** 150 distinct unknown fields: 150 validation errors, cheap to compare. */
const UNKNOWN_FIELDS = `{ ${Array.from({ length: 150 }, (_, i) => `f${i}`).join(' ')} }`;

describe('refusals of documents the API cannot run', () => {
  for (const accept of ACCEPTS) {
    describe(`accepting ${accept}`, () => {
      it('answers a mutation 400 OPERATION_NOT_SUPPORTED "this API has no mutations"', async () => {
        const answer = await post(new Harness(), 'mutation { x }', accept);
        assert.equal(answer.status, 400);
        const error = only(answer);
        assert.equal(error.extensions?.code, 'OPERATION_NOT_SUPPORTED');
        assert.match(error.message, /^this API has no mutations\b/);
      });

      it('answers a subscription not accepting server-sent events 406 EVENT_STREAM_REQUIRED', async () => {
        const answer = await post(new Harness(), SUBSCRIPTION, accept);
        assert.equal(answer.status, 406);
        const error = only(answer);
        assert.equal(error.extensions?.code, 'EVENT_STREAM_REQUIRED');
        assert.match(error.message, /send it with the header Accept: text\/event-stream$/);
      });

      it("names graphql-js's maxErrors and its value when validation stops at it", async () => {
        const answer = await post(new Harness(), UNKNOWN_FIELDS, accept);
        assert.equal(answer.status, 400);
        // graphql-js's own errors up to its limit, then ours in place of its bare one.
        assert.equal(answer.errors.length, GRAPHQL_JS_MAX_ERRORS + 1, JSON.stringify(answer));
        assert.ok(answer.errors.slice(0, -1).every((e) => /Cannot query field/.test(e.message)));
        const last = answer.errors.at(-1)!;
        assert.equal(last.extensions?.code, 'TOO_MANY_VALIDATION_ERRORS');
        assert.match(last.message, /\b100 errors\b.*maxErrors/);
        assert.doesNotMatch(JSON.stringify(answer), /Too many validation errors/);
      });

      it('says which bound a document of 1000 duplicated fields reached', async () => {
        const answer = await post(new Harness(), DUPLICATED_FIELDS, accept);
        assert.equal(answer.status, 400);
        const error = only(answer);
        assert.equal(error.extensions?.code, 'DOCUMENT_TOO_COMPLEX');
        assert.match(error.message, /500,000 comparisons of same-named fields/);
        assert.match(error.message, /50,000 fragment spreads/);
      });
    });
  }

  it('keeps the errors found before an aborted validation', async () => {
    const response = await new Harness().post(
      { query: `query A { unknown } query B ${DUPLICATED_FIELDS}`, operationName: 'B' },
      { accept: 'application/json' },
    );
    assert.equal(response.status, 400);
    const answer = (await response.json()) as { errors: GraphQLErrorJson[] };
    assert.deepEqual(
      answer.errors.map((e) => e.extensions?.code),
      ['GRAPHQL_VALIDATION_FAILED', 'DOCUMENT_TOO_COMPLEX'],
    );
    assert.match(answer.errors[0]!.message, /Cannot query field "unknown"/);
  });

  it('refuses a document with a mutation among its operations, whichever is run', async () => {
    const h = new Harness();
    const response = await h.post(
      { query: 'query Q { nodes { id } } mutation M { x }', operationName: 'Q' },
      { accept: 'application/json' },
    );
    assert.equal(response.status, 400);
    const body = (await response.json()) as { errors: GraphQLErrorJson[] };
    assert.deepEqual(
      body.errors.map((e) => e.extensions?.code),
      ['OPERATION_NOT_SUPPORTED'],
    );
  });

  it('answers a mutation by GET 400 "this API has no mutations", not 405 "use POST"', async () => {
    const answer = await get(new Harness(), 'mutation { x }');
    assert.equal(answer.status, 400);
    assert.equal(answer.allow, null, 'POST would not help: no Allow: POST');
    const error = only(answer);
    assert.equal(error.extensions?.code, 'OPERATION_NOT_SUPPORTED');
    assert.match(error.message, /^this API has no mutations\b/);
    // A subscription by GET is served (as server-sent events): asked for as JSON, it is 406.
    const subscription = await get(new Harness(), SUBSCRIPTION);
    assert.equal(subscription.status, 406);
    assert.equal(only(subscription).extensions?.code, 'EVENT_STREAM_REQUIRED');
    // Queries by GET still work.
    const query = await get(new Harness(), '{ nodes { id } }');
    assert.equal(query.status, 200);
  });

  it('logs nothing at warn or above for any of them, however often, and prints nothing', async () => {
    const log = captureLogger('debug');
    const h = new Harness({ deps: { logger: log.logger } });
    const printed: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => printed.push(args);
    try {
      for (let i = 0; i < 3; i++) {
        for (const query of ['mutation { x }', UNKNOWN_FIELDS]) {
          assert.equal((await post(h, query, 'application/json')).status, 400);
        }
        assert.equal((await post(h, SUBSCRIPTION, 'application/json')).status, 406);
        assert.equal((await get(h, 'mutation { x }')).status, 400);
      }
    } finally {
      console.error = original;
    }
    const loud = log.lines().filter((line) => Number(line['level']) >= 40);
    assert.deepEqual(loud, []);
    assert.deepEqual(printed, []);
  });

  it('reads Accept as yoga does for subscriptions: text/event-stream, by name or wildcard', () => {
    for (const accept of [
      null,
      '',
      'text/event-stream',
      'application/json, text/event-stream',
      'TEXT/EVENT-STREAM; charset=utf-8',
      'text/*',
      '*/*',
      'application/json;q=0.9, */*;q=0.1',
    ]) {
      assert.equal(acceptsEventStream(accept), true, String(accept));
    }
    for (const accept of [
      'application/json',
      'application/graphql-response+json, multipart/mixed',
      'text/html',
      'text/event-stream;q=0',
    ]) {
      assert.equal(acceptsEventStream(accept), false, accept);
    }
  });

  it("states graphql-js's validation bounds as the installed graphql has them", () => {
    const root = join(createRequire(import.meta.url).resolve('graphql'), '..');
    const validate = readFileSync(join(root, 'validation/validate.js'), 'utf8');
    assert.match(validate, new RegExp(`: ${GRAPHQL_JS_MAX_ERRORS};`));
    const overlapping = readFileSync(
      join(root, 'validation/rules/OverlappingFieldsCanBeMergedRule.js'),
      'utf8',
    );
    assert.match(
      overlapping,
      new RegExp(`MAX_COMPLEXITY_BUDGET = ${GRAPHQL_JS_FIELD_COMPARISONS};`),
    );
    const context = readFileSync(join(root, 'validation/ValidationContext.js'), 'utf8');
    assert.match(context, new RegExp(`_remainingFragmentWork = ${GRAPHQL_JS_FRAGMENT_SPREADS};`));
  });
});

import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { channelPoint, Harness, pubkey, T0 } from './harness.js';

const DEEP = `{ channels { nodes { peer { channels { peer { channels { peer { channels { node } } } } } } } } }`;

describe('GraphQL server', () => {
  describe('limits', () => {
    it('refuses a query deeper than the depth limit, before running it', async () => {
      const h = new Harness({ deps: { limits: { maxDepth: 5 } } });
      const result = await h.query(DEEP);
      assert.equal(result.status, 400);
      assert.equal(result.data, undefined);
      assert.match(result.errors?.[0]?.message ?? '', /depth limit of 5 exceeded/);
      assert.equal(result.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
      assert.deepEqual(await h.data('{ channels { nodes { peer { channels { node } } } } }'), {
        channels: { nodes: [] },
      });
    });

    it('refuses the deepest sensible query nowhere by default, and deeper ones', async () => {
      const h = new Harness();
      await h.open(pubkey(1), channelPoint(1), T0);
      await h.data('{ channels { nodes { peer { channels { onlinePeriods { start } } } } } }');
      const deeper = `{ channels { nodes { peer { channels { peer { channels { peer { channels { peer { channels { node } } } } } } } } } } }`;
      assert.equal((await h.query(deeper)).status, 400);
    });

    it('refuses a query costlier than the cost limit', async () => {
      const h = new Harness({ deps: { limits: { maxCost: 10_000 } } });
      const cheap = '{ channels(first: 10) { nodes { channelPoint uptimeRatio } } }';
      assert.deepEqual(await h.data(cheap), { channels: { nodes: [] } });
      const costly =
        '{ channels(first: 1000) { nodes { channelPoint uptimeRatio peer { pubkey } } } }';
      const result = await h.query(costly);
      assert.equal(result.status, 400);
      assert.match(result.errors?.[0]?.message ?? '', /Cost limit of 10000 exceeded/);
    });

    it('refuses a full page of 1000 channels three times over by default, not once', async () => {
      const h = new Harness();
      const full = (alias: string): string =>
        `${alias}: channels(first: 1000) { totalCount nodes { node channelPoint openedAt lifetimeSeconds uptimeSeconds uptimeRatio peer { pubkey online flapCount lastFlap } } }`;
      await h.data(`{ ${full('a')} }`);
      const result = await h.query(`{ ${full('a')} ${full('b')} ${full('c')} }`);
      assert.match(result.errors?.[0]?.message ?? '', /Cost limit/);
    });

    describe('cost of a page size given by a variable or omitted', () => {
      // nodes: 2 + 1.5 * 2 = 5; channels: (2 + 1.5 * 5) * page size = 9.5 per channel.
      const SELECTION = 'nodes { channelPoint uptimeRatio }';
      const literal = (first: string): string => `{ channels${first} { ${SELECTION} } }`;
      const variable = `query($first: Int) { channels(first: $first) { ${SELECTION} } }`;

      /** Status and body of a query, as the client sees them. */
      async function answer(
        h: Harness,
        query: string,
        variables?: Record<string, unknown>,
        accept?: string,
      ): Promise<{ status: number; body: unknown }> {
        const response = await h.post({ query, variables }, accept === undefined ? {} : { accept });
        return { status: response.status, body: await response.json() };
      }

      const refused = (found: number, max: number) => ({
        status: 400,
        body: {
          errors: [
            {
              message: `Query Cost limit of ${max} exceeded, found ${found}. The limit is --graphql.max-cost (GRAPHQL_MAX_COST).`,
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
            },
          ],
        },
      });

      it('refuses $first = 1000 as it refuses a literal first: 1000', async () => {
        const h = new Harness({ deps: { limits: { maxCost: 5000 } } });
        assert.deepEqual(await answer(h, literal('(first: 1000)')), refused(9500, 5000));
        assert.deepEqual(await answer(h, variable, { first: 1000 }), refused(9500, 5000));
        // The same for application/json clients (HTTP 200, as for any validation error).
        const json = 'application/json';
        const byLiteral = await answer(h, literal('(first: 1000)'), undefined, json);
        assert.equal(byLiteral.status, 200);
        assert.deepEqual(await answer(h, variable, { first: 1000 }, json), byLiteral);
        // Within the limit, the same document is answered.
        assert.deepEqual(await h.data(variable, { first: 500 }), { channels: { nodes: [] } });
      });

      it('counts a page size over the largest page as the largest page, literal or variable', async () => {
        const h = new Harness({ deps: { limits: { maxCost: 5000 } } });
        assert.deepEqual(await answer(h, literal('(first: 5000)')), refused(9500, 5000));
        assert.deepEqual(await answer(h, variable, { first: 5000 }), refused(9500, 5000));
        const capped = new Harness({ deps: { limits: { maxCost: 5000, maxPageSize: 500 } } });
        assert.deepEqual(await capped.data(literal('(first: 5000)')), { channels: { nodes: [] } });
        assert.deepEqual(await capped.data(variable, { first: 5000 }), {
          channels: { nodes: [] },
        });
      });

      it('counts an omitted or null first as the default page of 100', async () => {
        const h = new Harness({ deps: { limits: { maxCost: 500 } } });
        assert.deepEqual(await h.data(literal('(first: 10)')), { channels: { nodes: [] } });
        assert.deepEqual(await answer(h, literal('')), refused(950, 500));
        assert.deepEqual(await answer(h, literal('(first: null)')), refused(950, 500));
        assert.deepEqual(await answer(h, variable), refused(950, 500));
        assert.deepEqual(await answer(h, variable, { first: null }), refused(950, 500));
        const withDefault = `query($first: Int = 1000) { channels(first: $first) { ${SELECTION} } }`;
        assert.deepEqual(await answer(h, withDefault), refused(9500, 500));
        assert.deepEqual(await h.data(withDefault, { first: 10 }), { channels: { nodes: [] } });
      });

      it('counts a page size given by a variable inside a fragment', async () => {
        const h = new Harness({ deps: { limits: { maxCost: 5000 } } });
        const query = `query($first: Int) { ...Page } fragment Page on Query { channels(first: $first) { ${SELECTION} } }`;
        assert.deepEqual(await h.data(query, { first: 10 }), { channels: { nodes: [] } });
        // Spread: 1 + 1.5 * fragment; fragment: 2 + 1.5 * 9500.
        assert.deepEqual(await answer(h, query, { first: 1000 }), refused(1 + 1.5 * 14252, 5000));
      });

      for (const jit of [true, false]) {
        it(`refuses it after the same document was answered cheaply (jit ${jit})`, async () => {
          const h = new Harness({ deps: { limits: { maxCost: 5000 }, jit } });
          await h.open(pubkey(1), channelPoint(1), T0);
          const one = {
            channels: { nodes: [{ channelPoint: channelPoint(1), uptimeRatio: null }] },
          };
          // Twice: the second time through the compiled operations' fast path.
          assert.deepEqual(await h.data(variable, { first: 1 }), one);
          assert.deepEqual(await h.data(variable, { first: 1 }), one);
          assert.deepEqual(await answer(h, variable, { first: 1000 }), refused(9500, 5000));
          assert.deepEqual(await answer(h, variable, { first: 1000 }), refused(9500, 5000));
          assert.deepEqual(await h.data(variable, { first: 1 }), one);
        });
      }
    });

    it('refuses too many aliases', async () => {
      const h = new Harness({ deps: { limits: { maxAliases: 3 } } });
      await h.data('{ a: nodes { id } b: nodes { id } c: nodes { id } }');
      const result = await h.query(
        '{ a: nodes { id } b: nodes { id } c: nodes { id } d: nodes { id } }',
      );
      assert.equal(result.status, 400);
      assert.match(
        result.errors?.[0]?.message ?? '',
        /Aliases limit of 3 exceeded, found 4\. The limit is --graphql\.max-aliases \(GRAPHQL_MAX_ALIASES\)\./,
      );
    });

    it('answers 20 peers asked by alias with the default limits', async () => {
      const h = new Harness();
      const aliased = Array.from(
        { length: 20 },
        (_, i) => `p${i}: peer(pubkey: "${pubkey(i + 1)}") { pubkey flapCount }`,
      ).join(' ');
      assert.equal((await h.query(`{ ${aliased} }`)).status, 200);
    });
  });

  describe('introspection', () => {
    const SCHEMA = '{ __schema { queryType { name } } }';

    it('is answered when enabled', async () => {
      const h = new Harness();
      assert.deepEqual(await h.data(SCHEMA), { __schema: { queryType: { name: 'Query' } } });
    });

    it('is refused when disabled, while queries and __typename still work', async () => {
      const h = new Harness({ deps: { introspection: false } });
      const result = await h.query(SCHEMA);
      assert.equal(result.status, 400);
      assert.match(result.errors?.[0]?.message ?? '', /introspection/i);
      assert.equal((await h.query('{ __type(name: "Channel") { name } }')).status, 400);
      assert.deepEqual(await h.data('{ __typename nodes { id } }'), {
        __typename: 'Query',
        nodes: [{ id: 'alice' }],
      });
    });
  });

  describe('errors', () => {
    it('masks an unexpected error for the client and logs it in full', async () => {
      const h = new Harness();
      await h.open(pubkey(1), channelPoint(1), T0);
      h.store().channelInfo = () => {
        throw new Error('backend exploded at 10.0.0.7');
      };
      const result = await h.query(
        `{ channel(channelPoint: "${channelPoint(1)}") { lifetimeSeconds } }`,
      );
      assert.deepEqual(result.data, { channel: null });
      assert.deepEqual(
        result.errors?.map((e) => [e.message, e.extensions?.code]),
        [['Unexpected error.', 'INTERNAL_SERVER_ERROR']],
      );
      assert.doesNotMatch(JSON.stringify(result), /exploded|10\.0\.0\.7/);
      const logged = h.log.lines().find((line) => line['level'] === 50);
      assert.ok(logged, h.log.text());
      assert.equal(logged['component'], 'graphql');
      assert.equal(logged['path'], 'channel.lifetimeSeconds');
      assert.match(JSON.stringify(logged['err']), /backend exploded at 10\.0\.0\.7/);
    });

    it("answers STORE_UNAVAILABLE, without the failure's details, when a record cannot be read", async () => {
      const h = new Harness({
        deps: {
          readPersistedFlapRecord: () => Promise.reject(new Error('backend exploded at 10.0.0.7')),
        },
      });
      const result = await h.query(`{ peer(pubkey: "${pubkey(1)}") { flapCount } }`);
      assert.deepEqual(result.data, { peer: null });
      assert.deepEqual(
        result.errors?.map((e) => e.extensions?.code),
        ['STORE_UNAVAILABLE'],
      );
      assert.match(JSON.stringify(result.errors), /cannot be read now/);
      assert.doesNotMatch(JSON.stringify(result), /exploded|10\.0\.0\.7/);
    });

    it('does not log the errors it gives clients on purpose', async () => {
      const h = new Harness();
      await h.error(`{ channel(channelPoint: "${channelPoint(1)}") { node } }`);
      await h.error('{ peer(pubkey: "nope") { node } }');
      assert.deepEqual(
        h.log.lines().filter((line) => (line['level'] as number) >= 40),
        [],
      );
    });
  });

  describe('HTTP', () => {
    it('serves GraphiQL to a browser', async () => {
      const h = new Harness();
      const response = await h.server.fetch('http://localhost/graphql', {
        headers: { accept: 'text/html' },
      });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /text\/html/);
      const html = await response.text();
      assert.match(html, /<title>chanfitness-exporter<\/title>/);
      assert.match(html, /graphiql/i);
      // Self-contained: an operator's browser without internet access still renders it.
      assert.doesNotMatch(html, /<script[^>]+src="https?:/);
      assert.doesNotMatch(html, /<link[^>]+href="https?:/);
    });

    it('does not serve GraphiQL when disabled', async () => {
      const h = new Harness({ deps: { graphiql: false } });
      const response = await h.server.fetch('http://localhost/graphql', {
        headers: { accept: 'text/html' },
      });
      assert.doesNotMatch(response.headers.get('content-type') ?? '', /text\/html/);
      await response.body?.cancel();
    });

    it('answers GET queries', async () => {
      const h = new Harness();
      const response = await h.server.fetch(
        `http://localhost/graphql?query=${encodeURIComponent('{ nodes { id } }')}`,
        { headers: { accept: 'application/json' } },
      );
      assert.deepEqual(await response.json(), { data: { nodes: [{ id: 'alice' }] } });
    });

    it('sends no CORS headers by default, and the configured origins when set', async () => {
      const preflight = {
        method: 'OPTIONS',
        headers: {
          origin: 'https://grafana.example',
          'access-control-request-method': 'POST',
        },
      };
      const closed = await new Harness().server.fetch('http://localhost/graphql', preflight);
      assert.equal(closed.headers.get('access-control-allow-origin'), null);
      await closed.body?.cancel();
      const open = new Harness({ deps: { corsOrigins: ['https://grafana.example'] } });
      const allowed = await open.server.fetch('http://localhost/graphql', preflight);
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://grafana.example');
      await allowed.body?.cancel();
    });

    it('never allows credentials cross-origin, even for any origin', async () => {
      const any = new Harness({ deps: { corsOrigins: ['*'] } });
      const response = await any.server.fetch(
        `http://localhost/graphql?query=${encodeURIComponent('{ nodes { id } }')}`,
        { headers: { origin: 'https://evil.example', accept: 'application/json' } },
      );
      assert.notEqual(response.headers.get('access-control-allow-credentials'), 'true');
      await response.body?.cancel();
    });

    it('refuses a request body over the size limit', async () => {
      const h = new Harness({ deps: { limits: { maxRequestBytes: 1024 } } });
      const response = await h.post({ query: `{ nodes { id } } # ${'x'.repeat(2000)}` });
      assert.equal(response.status, 413);
      await response.body?.cancel();
    });

    it('works as a node:http request listener', async () => {
      const h = new Harness();
      const server: Server = createServer((req, res) => {
        void h.server(req, res);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ nodes { id } }' }),
        });
        assert.deepEqual(await response.json(), { data: { nodes: [{ id: 'alice' }] } });
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => {
          server.close(() => {
            resolve();
          });
        });
      }
    });

    it('answers the same without graphql-jit', async () => {
      const query = `{ channels { nodes { channelPoint lifetimeSeconds uptimeRatio peer { pubkey online } onlinePeriods { start end } } } }`;
      const results = [];
      for (const jit of [true, false]) {
        const h = new Harness({ deps: { jit } });
        h.events().peerEvent(pubkey(1), true, T0);
        await h.open(pubkey(1), channelPoint(1), T0);
        h.clock.advance(60_000);
        results.push(await h.data(query));
      }
      assert.deepEqual(results[0], results[1]);
    });
  });
});

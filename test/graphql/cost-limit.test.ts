import assert from 'node:assert/strict';
import {
  buildSchema,
  execute,
  GraphQLError,
  parse,
  validate,
  type GraphQLResolveInfo,
} from 'graphql';
import { CostLimit, type Cost, type Variables } from '../../src/graphql/cost-limit.js';

/** A schema of the API's shapes: objects, lists with and without a page size. */
const schema = buildSchema(`
  type Query {
    version: String!
    peer(pubkey: String!): Peer
    channels(first: Int = 50, after: String): [Channel!]!
  }
  type Peer {
    pubkey: String!
    channels: [Channel!]!
  }
  type Channel {
    channelPoint: String!
    peer: Peer!
  }
`);

function limitOf(maxCost: number, maxPageSize = 1000): CostLimit {
  return new CostLimit({ maxCost, maxPageSize });
}

/** The cost of a document's only operation with these variables (none: its lowest). */
function costOf(source: string, variables?: Variables, limit = limitOf(1e9)): number {
  const cost: Cost | undefined = limit.operationCost(schema, parse(source));
  assert.ok(cost !== undefined, 'no operation');
  return typeof cost === 'number' ? cost : cost(variables);
}

/** The messages of validating a document with the cost rule alone. */
function validationErrors(limit: CostLimit, source: string): string[] {
  return validate(schema, parse(source), [limit.rule()]).map((e) => e.message);
}

const SETTING = /--graphql\.max-cost \(GRAPHQL_MAX_COST\)/;

describe('CostLimit', () => {
  describe("operationCost (graphql-armor's formula)", () => {
    it('counts 1 per scalar and 2 plus 1.5 times the selection per object', () => {
      assert.equal(costOf('{ version }'), 1);
      assert.equal(costOf('{ version peer(pubkey: "a") { pubkey } }'), 1 + (2 + 1.5 * 1));
      // Nested: 2 + 1.5 * (pubkey 1 + channels (2 + 1.5 * 1)).
      assert.equal(costOf('{ peer(pubkey: "a") { pubkey channels { channelPoint } } }'), 8.75);
    });

    it('multiplies a selection by its literal page size, capped at the largest page', () => {
      assert.equal(costOf('{ channels(first: 4) { channelPoint } }'), 3.5 * 4);
      assert.equal(costOf('{ channels(first: 0) { channelPoint } }'), 3.5, 'at least 1');
      assert.equal(
        costOf('{ channels(first: 5000) { channelPoint } }', undefined, limitOf(1e9, 20)),
        3.5 * 20,
      );
    });

    it("counts an omitted or null page size as the argument's default", () => {
      assert.equal(costOf('{ channels { channelPoint } }'), 3.5 * 50);
      assert.equal(costOf('{ channels(first: null) { channelPoint } }'), 3.5 * 50);
    });

    it('counts a page size given by a variable as sent, at 1 before the variables are known', () => {
      const query = 'query($n: Int) { channels(first: $n) { channelPoint } }';
      assert.equal(costOf(query), 3.5, 'the lowest any variables give');
      assert.equal(costOf(query, { n: 4 }), 3.5 * 4);
      assert.equal(costOf(query, {}), 3.5 * 50, "absent: the argument's default");
      assert.equal(costOf(query, { n: null }), 3.5 * 50);
      assert.equal(costOf(query, { n: 'four' }), 3.5, 'refused at coercion anyway');
      const withDefault = 'query($n: Int = 3) { channels(first: $n) { channelPoint } }';
      assert.equal(costOf(withDefault, {}), 3.5 * 3, "absent: the variable's default");
    });

    it('counts fragments as graphql-armor does, and __schema as nothing', () => {
      // Spread: 1 + 1.5 * (fragment 2 + 1.5 * 1); inside peer: 2 + 1.5 * 6.25.
      assert.equal(
        costOf('{ peer(pubkey: "a") { ...P } } fragment P on Peer { pubkey }'),
        2 + 1.5 * 6.25,
      );
      assert.equal(costOf('{ peer(pubkey: "a") { ... on Peer { pubkey } } }'), 2 + 1.5 * 3.5);
      assert.equal(costOf('{ __schema { types { name } } }'), 0);
    });

    it('is the cost of the operation named, and undefined for one the document lacks', () => {
      const limit = limitOf(1e9);
      const document = parse('query A { version } query B { channels(first: 2) { channelPoint } }');
      assert.equal(limit.operationCost(schema, document, 'B'), 7);
      assert.equal(limit.operationCost(schema, document, 'C'), undefined);
      assert.equal(limit.operationCost(schema, document), undefined, 'which of the two?');
    });
  });

  describe('admits and refusal', () => {
    it('admits up to the limit, and refuses past it with a validation error naming the setting', () => {
      const limit = limitOf(14);
      const cost: Cost = (variables) => 3.5 * Number(variables?.n ?? 1);
      assert.equal(limit.admits(cost, { n: 4 }), true);
      assert.equal(limit.refusal(cost, { n: 4 }), undefined);
      assert.equal(limit.admits(cost, { n: 5 }), false);
      const refusal = limit.refusal(cost, { n: 5 });
      assert.ok(refusal instanceof GraphQLError);
      assert.match(refusal.message, /^Query Cost limit of 14 exceeded, found 17\.5\./);
      assert.match(refusal.message, SETTING);
      assert.deepEqual(refusal.extensions, {
        code: 'GRAPHQL_VALIDATION_FAILED',
        http: { spec: true, status: 400 },
      });
    });
  });

  describe('rule (validation)', () => {
    it('refuses an operation over the limit whatever its variables, and admits one within', () => {
      const limit = limitOf(14);
      assert.deepEqual(validationErrors(limit, '{ channels(first: 4) { channelPoint } }'), []);
      const [message, ...others] = validationErrors(
        limit,
        '{ channels(first: 5) { channelPoint } }',
      );
      assert.deepEqual(others, []);
      assert.match(message ?? '', /^Query Cost limit of 14 exceeded, found 17\.5\./);
      assert.match(message ?? '', SETTING);
    });

    it('counts page sizes given by variables at 1: only the variables can tell', () => {
      const limit = limitOf(14);
      const query = 'query($n: Int) { channels(first: $n) { channelPoint } }';
      assert.deepEqual(validationErrors(limit, query), []);
    });

    it('checks every operation of the document', () => {
      const limit = limitOf(14);
      const errors = validationErrors(
        limit,
        'query A { version } query B { channels(first: 9) { channelPoint } }',
      );
      assert.equal(errors.length, 1);
      assert.match(errors[0] ?? '', /found 31\.5/);
    });
  });

  describe('charge (lists by their real size)', () => {
    /** Runs a query whose Peer.channels lists `size` channels, each charged before it is built. */
    function run(limit: CostLimit, size: number, context: object = {}) {
      const charged: unknown[] = [];
      const rootValue = {
        peer: () => ({
          pubkey: 'a',
          channels: (_: unknown, ctx: unknown, info: GraphQLResolveInfo) => {
            try {
              limit.charge(ctx, info, size);
            } catch (err) {
              charged.push(err);
              throw err;
            }
            return Array.from({ length: size }, (_, i) => ({ channelPoint: `cp${i}` }));
          },
        }),
      };
      const result = execute({
        schema,
        document: parse('{ peer(pubkey: "a") { channels { channelPoint } } }'),
        rootValue,
        contextValue: context,
      });
      return { result, charged, context };
    }

    // Static: 2 + 1.5 * channels (2 + 1.5 * 1) = 7.25; the 9 other items (3.5 each) at depth 1.
    const exact = 7.25 + 9 * 3.5 * 1.5;

    it('admits a list whose items keep the cost within the limit, to the unit', () => {
      const limit = limitOf(exact);
      const context = {};
      limit.beginExecution(context);
      const { result, charged } = run(limit, 10, context);
      assert.deepEqual(charged, []);
      assert.equal(limit.executionRefusal(context), undefined);
      assert.equal(
        (result as { data: { peer: { channels: unknown[] } } }).data.peer.channels.length,
        10,
      );
    });

    it('refuses a list over the limit, naming it, and keeps refusing the execution', () => {
      const limit = limitOf(exact - 1);
      const context = {};
      limit.beginExecution(context);
      const { charged } = run(limit, 10, context);
      const refusal = limit.executionRefusal(context);
      assert.ok(refusal instanceof GraphQLError);
      assert.deepEqual(charged, [refusal]);
      assert.match(
        refusal.message,
        /^Query Cost limit of 53\.5 exceeded: Peer\.channels at peer\.channels has 10 items/,
      );
      assert.match(refusal.message, SETTING);
      assert.equal(refusal.extensions.code, 'GRAPHQL_VALIDATION_FAILED');
      // Any later list of the same execution: the same refusal, even a list of one.
      assert.throws(() => {
        limit.charge(context, {} as GraphQLResolveInfo, 1);
      }, refusal);
    });

    it('charges nothing for a list of one item, nor outside an execution it began', () => {
      const limit = limitOf(0.5);
      const context = {};
      limit.beginExecution(context);
      assert.deepEqual(run(limit, 1, context).charged, []);
      assert.equal(limit.executionRefusal(context), undefined);
      // No beginExecution for this context (the plugin's onExecute did not run): not counted.
      const other = {};
      assert.deepEqual(run(limit, 10, other).charged, []);
      assert.equal(limit.executionRefusal(other), undefined);
    });
  });
});

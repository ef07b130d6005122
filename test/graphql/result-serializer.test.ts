import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { buildSchema, execute, parse, type ExecutionResult } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { compileResultSerializer } from '../../src/graphql/result-serializer.js';

const SCHEMA = buildSchema(`
  type Query { a: String  b: Float  n: Int  flag: Boolean  items: [Item]  item: Item!  grid: [[Float!]] }
  type Item { s: String!  x: Float  list: [Float]  sub: Item  kind: Kind }
  enum Kind { ONE TWO }
`);

// Aliases, a key selected twice (its selections merged), nested lists.
const OPERATION = `query Q {
  a
  b
  alias: a
  n
  flag
  __typename
  items { s x list sub { s kind } x kind }
  item { s sub { x list } sub { s } }
  grid
  second: item { kind s }
}`;

function serializer(source: string, name?: string): (result: ExecutionResult) => string {
  const serialize = compileResultSerializer(SCHEMA, parse(source), name);
  assert.ok(serialize !== undefined);
  return serialize;
}

/** Any UTF-16 code units, lone surrogates and control characters included. */
const text = fc.string({ unit: fc.nat(0xffff).map((c) => String.fromCharCode(c)), maxLength: 8 });
const float = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(-0, 1e21, 1e-7, 5e-324, Number.MAX_VALUE),
);
const nullable = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(null) });

interface Item {
  s: string;
  x: number | null;
  list: (number | null)[] | null;
  sub: Item | null;
  kind: 'ONE' | 'TWO' | null;
}
const { item } = fc.letrec<{ item: Item }>((tie) => ({
  item: fc.record({
    s: text,
    x: nullable(float),
    list: nullable(fc.array(nullable(float), { maxLength: 3 })),
    sub: fc.oneof({ depthSize: 'small' }, fc.constant(null), tie('item')),
    kind: nullable(fc.constantFrom('ONE' as const, 'TWO' as const)),
  }),
}));
/** What the resolvers read: the root value, in no particular key order. */
const root = fc.record({
  grid: nullable(fc.array(nullable(fc.array(float, { maxLength: 3 })), { maxLength: 3 })),
  n: nullable(fc.integer()),
  item,
  items: nullable(fc.array(nullable(item), { maxLength: 4 })),
  flag: nullable(fc.boolean()),
  b: nullable(float),
  a: nullable(text),
});

describe('GraphQL result serializer', () => {
  it('writes exactly what JSON.stringify writes for graphql-jit and graphql-js results', async () => {
    const document = parse(OPERATION);
    const serialize = serializer(OPERATION);
    const jit = compileQuery(SCHEMA, document);
    assert.ok(isCompiledQuery(jit));
    await fc.assert(
      fc.asyncProperty(root, async (rootValue) => {
        for (const result of [
          await jit.query(rootValue, {}, {}),
          await execute({ schema: SCHEMA, document, rootValue }),
        ]) {
          assert.equal(result.errors, undefined);
          assert.equal(serialize(result), JSON.stringify(result));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('writes values JSON.stringify writes otherwise as it does', () => {
    const serialize = serializer('{ a b n }');
    for (const b of [Number.NaN, Number.POSITIVE_INFINITY, -0, 1e21, 0.1 + 0.2]) {
      const result = { data: { a: 'x', b, n: 1 } };
      assert.equal(serialize(result), JSON.stringify(result));
    }
  });

  it("gives results not of the operation's shape, or with more than data, to JSON.stringify", async () => {
    const serialize = serializer(OPERATION);
    const rootValue = fc.sample(root, { numRuns: 1, seed: 1 })[0];
    const valid = await execute({ schema: SCHEMA, document: parse(OPERATION), rootValue });
    const data = valid.data as Record<string, unknown>;
    assert.equal(serialize(valid), JSON.stringify(valid));
    const odd: unknown[] = [
      { data: null },
      { data: undefined },
      {},
      { data: { ...data, items: 'not a list' } },
      { data: { ...data, item: [data['item']] } },
      { data: { ...data, a: undefined } },
      { data: { ...data, b: { toJSON: () => 'custom' } } },
      { data: { ...data, items: [undefined] } },
      { data, errors: [{ message: 'boom' }] },
      { data, extensions: { cost: 1 } },
      { data, stringify: JSON.stringify },
      { data, errors: undefined },
    ];
    for (const result of odd) {
      assert.equal(
        serialize(result as ExecutionResult),
        JSON.stringify(result),
        JSON.stringify(result),
      );
    }
  });

  it('is not made for operations whose shape depends on more than its fields', () => {
    for (const source of [
      'query($x: Boolean!) { a @include(if: $x) b }',
      '{ item { ... @skip(if: true) { s } } }',
      '{ item { ... on Item { s } x } }',
      '{ item { ...F } } fragment F on Item { s }',
      '{ __schema { queryType { name } } }',
      '{ a } { b }',
    ]) {
      assert.equal(compileResultSerializer(SCHEMA, parse(source)), undefined, source);
    }
    // The operation named, of several.
    const second = serializer('query One { a } query Two { b n }', 'Two');
    assert.equal(second({ data: { b: 1.5, n: 2 } }), '{"data":{"b":1.5,"n":2}}');
  });
});

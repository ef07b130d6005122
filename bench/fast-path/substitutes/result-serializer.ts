/**
 * The result serializer compiled per operation that src/graphql had before it
 * was weighed and deleted (it gained under 10% on the whole server), kept here
 * as it was so that bench/fast-path-serializer.bench.ts can weigh it again.
 */
import {
  getNamedType,
  getNullableType,
  getOperationAST,
  isListType,
  isObjectType,
  Kind,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';

/** Characters JSON.stringify escapes in a string (lone surrogates included). */
// eslint-disable-next-line no-control-regex -- the control characters are what JSON escapes
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/**
 * A leaf (a scalar or enum as serialized) as JSON.stringify writes it, or
 * undefined for anything but a string, a number, a boolean or null (the
 * whole result is then left to JSON.stringify).
 */
function leaf(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
    case 'number':
      return Number.isFinite(value) ? `${value}` : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      return value === null ? 'null' : undefined;
  }
}

/** Why an operation is left to JSON.stringify. */
class Unsupported extends Error {}

/** What is written at one place of a result: a leaf, a list, or an object with its keys. */
type Shape =
  | { readonly kind: 'leaf' }
  | { readonly kind: 'list'; readonly item: Shape }
  | { readonly kind: 'object'; readonly fields: readonly (readonly [key: string, shape: Shape])[] };

/**
 * The shape of an operation's results. Only operations whose every object's
 * keys and their order follow from the document alone, the same way for
 * every executor, are supported: fields and aliases. Not fragments (graphql-js
 * and graphql-jit order a fragment's fields differently), @skip and @include
 * (a field left out moves the later ones), or abstract types.
 */
class ShapeCompiler {
  constructor(private readonly schema: GraphQLSchema) {}

  object(type: GraphQLObjectType, selections: readonly SelectionSetNode[]): Shape {
    // Keys in the order of their first appearance; a key's selections merged.
    const byKey = new Map<string, { type: GraphQLOutputType; sets: SelectionSetNode[] }>();
    for (const set of selections) {
      for (const selection of set.selections) {
        if (selection.kind !== Kind.FIELD) throw new Unsupported('fragment');
        if ((selection.directives?.length ?? 0) > 0) throw new Unsupported('directives');
        const key = selection.alias?.value ?? selection.name.value;
        let entry = byKey.get(key);
        if (entry === undefined) {
          entry = { type: this.fieldType(type, selection.name.value), sets: [] };
          byKey.set(key, entry);
        }
        if (selection.selectionSet !== undefined) entry.sets.push(selection.selectionSet);
      }
    }
    const fields: (readonly [string, Shape])[] = [];
    for (const [key, { type: fieldType, sets }] of byKey) {
      fields.push([key, this.value(fieldType, sets)]);
    }
    return { kind: 'object', fields };
  }

  private fieldType(type: GraphQLObjectType, name: string): GraphQLOutputType {
    if (name === '__typename') return this.schema.getType('String') as GraphQLOutputType;
    const field = type.getFields()[name];
    if (field === undefined) throw new Unsupported(`unknown field ${name}`);
    return field.type;
  }

  private value(type: GraphQLOutputType, sets: readonly SelectionSetNode[]): Shape {
    const nullable = getNullableType(type);
    if (isListType(nullable)) return { kind: 'list', item: this.value(nullable.ofType, sets) };
    if (sets.length === 0) return { kind: 'leaf' };
    const named = getNamedType(nullable);
    if (!isObjectType(named)) throw new Unsupported('abstract type');
    return this.object(named, sets);
  }
}

/**
 * JavaScript that appends the JSON of the value in variable `value` (of the
 * given shape) to `out`, or returns undefined from the serializer when the
 * value is not of that shape. Keys are GraphQL names, written through
 * JSON.stringify all the same; no value of a result is ever part of the code.
 */
function writeCode(shape: Shape, value: string, depth: number): string {
  switch (shape.kind) {
    case 'leaf':
      return `w = leaf(${value}); if (w === undefined) return undefined; out += w;`;
    case 'list': {
      const i = `i${depth}`;
      const item = `v${depth + 1}`;
      return `if (${value} === null) out += 'null';
else if (!Array.isArray(${value})) return undefined;
else {
  out += '[';
  for (let ${i} = 0; ${i} < ${value}.length; ${i}++) {
    if (${i} > 0) out += ',';
    const ${item} = ${value}[${i}];
    ${writeCode(shape.item, item, depth + 1)}
  }
  out += ']';
}`;
    }
    case 'object': {
      const fields = shape.fields.map(([key, fieldShape], index) => {
        const field = `v${depth + 1}`;
        const prefix = JSON.stringify(`${index === 0 ? '{' : ','}${JSON.stringify(key)}:`);
        return `{
  out += ${prefix};
  const ${field} = ${value}[${JSON.stringify(key)}];
  ${writeCode(fieldShape, field, depth + 1)}
}`;
      });
      const close = shape.fields.length === 0 ? `'{}'` : `'}'`;
      return `if (${value} === null) out += 'null';
else if (typeof ${value} !== 'object' || Array.isArray(${value})) return undefined;
else {
  ${fields.join('\n')}
  out += ${close};
}`;
    }
  }
}

type DataWriter = (data: unknown) => string | undefined;

function compileDataWriter(shape: Shape): DataWriter {
  const body = `return function writeData(v0) {
  let out = '';
  let w;
  ${writeCode(shape, 'v0', 0)}
  return out;
};`;
  // Code generated from the document's shape, as graphql-jit compiles its queries.
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function('leaf', body) as (write: typeof leaf) => DataWriter;
  return make(leaf);
}

/**
 * A serializer for the results of one operation, byte for byte what
 * JSON.stringify writes for them, compiled from the document once: the keys
 * of every object and their order are known (an executor, graphql-js or
 * graphql-jit, writes every selected key and in the order of the
 * selections: only such results are written the same), so the answer is written as
 * strings joined together without JSON.stringify's inspection of every
 * object and value (a third of its time for a 100-channel page, and the
 * string it builds is cheaper to write to the socket). A result with
 * anything but `data`, or a value not of the operation's shape, is given to
 * JSON.stringify. Undefined when the operation's shape depends on more than
 * the document (see ShapeCompiler).
 */
export function compileResultSerializer(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName?: string | null,
): ((result: ExecutionResult) => string) | undefined {
  const operation = getOperationAST(document, operationName);
  if (operation === null || operation === undefined) return undefined;
  const root = schema.getRootType(operation.operation);
  if (root === undefined || root === null) return undefined;
  let shape: Shape;
  try {
    shape = new ShapeCompiler(schema).object(root, [operation.selectionSet]);
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  const writeData = compileDataWriter(shape);
  return (result) => {
    // Only { data }, as JSON.stringify sees it: keys of functions (yoga's
    // stringify) and of undefined values are left out, as it leaves them out.
    for (const key of Object.keys(result)) {
      if (key === 'data') continue;
      const value = (result as Record<string, unknown>)[key];
      if (value !== undefined && typeof value !== 'function') return JSON.stringify(result);
    }
    const data = result.data === undefined ? undefined : writeData(result.data);
    return data === undefined ? JSON.stringify(result) : `{"data":${data}}`;
  };
}

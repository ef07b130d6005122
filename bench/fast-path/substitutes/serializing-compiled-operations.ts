/**
 * Substitute for src/graphql/compiled-operations.ts
 * (bench/fast-path-serializer.bench.ts): useCompiledOperations as it was with
 * a result serializer compiled per operation (./result-serializer.ts).
 */
import type { JITCache } from '@envelop/graphql-jit';
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { BoundedCache, type CacheBounds } from '../../../src/graphql/bounded-cache.js';
import type { Cost, CostLimit } from '../../../src/graphql/cost-limit.js';
import { compiledBytes } from '../../../src/graphql/document-caches.js';
import { compileResultSerializer } from './result-serializer.js';

process.stderr.write(
  `bench, pid ${process.pid}: a serializer compiled per operation (src/graphql/compiled-operations.ts substituted)\n`,
);

type JitEntry = NonNullable<ReturnType<JITCache['get']>>;

/** An operation run without error, ready for the fast path. */
export interface VerifiedOperation {
  /** Its cost (0 without a cost limit). */
  readonly cost: Cost;
  /** The operation's own serializer; undefined when its shape is not fixed by its document. */
  readonly stringify: ((result: ExecutionResult) => string) | undefined;
}

/**
 * graphql-jit's compiled queries by document text, and the operations
 * verified for useCompiledOperations' fast path by operation name and
 * document text, each bounded by entries and estimated bytes (compiledBytes;
 * an operation's serializer weighs about as much as its compiled query):
 * useGraphQlJit fills the compiled queries, useCompiledOperations the
 * operations, and reads both.
 */
export class CompiledQueryCache implements JITCache {
  private readonly entries: BoundedCache<JitEntry>;
  readonly operations: BoundedCache<VerifiedOperation>;

  constructor(readonly bounds: CacheBounds) {
    this.entries = new BoundedCache(bounds, compiledBytes);
    this.operations = new BoundedCache(bounds, compiledBytes);
  }

  get(key: string): JitEntry | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: JitEntry): void {
    this.entries.set(key, value);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The estimated bytes of the compiled queries. */
  get bytes(): number {
    return this.entries.bytes;
  }
}

function operationKey(params: GraphQLParams): string | undefined {
  return typeof params.query === 'string'
    ? `${params.operationName ?? ''}\u0000${params.query}`
    : undefined;
}

/**
 * A shortcut through yoga for operations it has already run: once a document
 * (with its operation name) has been parsed, validated (the depth, cost and
 * alias limits included) and executed without error by the ordinary
 * pipeline, the next requests for it run its compiled query straight from
 * yoga's onParams hook. That skips envelop's per-request work (parse and
 * validation cache lookups, context building, executor wrapping), a tenth of
 * a small query's CPU. Validation depends on nothing but the document and the
 * schema, so it would pass again. A result with errors is not used: the
 * request then takes the ordinary pipeline, which runs it again and masks
 * and logs its errors as always (queries have no side effects). The result
 * is serialized by a serializer compiled for the operation (the same JSON as
 * JSON.stringify's, see compileResultSerializer), or else with the compiled
 * query's stringify, as the JIT executor's. The one check that depends on more than the document, the cost limit with
 * page sizes given by variables, is made here too: a request over it takes
 * the ordinary pipeline, which refuses it.
 */
export function useCompiledOperations(cache: CompiledQueryCache, costLimit?: CostLimit): Plugin {
  const verified = cache.operations;
  return {
    onParams({ params, context, setResult }) {
      const key = operationKey(params);
      if (key === undefined) return undefined;
      const operation = verified.get(key);
      if (operation === undefined) return undefined;
      const { cost } = operation;
      const variables = params.variables ?? {};
      if (typeof cost !== 'number' && !costLimit?.admits(cost, variables)) return undefined;
      const entry = cache.get(params.query ?? '');
      if (entry === undefined) return undefined;
      const stringify = operation.stringify ?? entry.stringify;
      const use = (result: ExecutionResult): void => {
        if (result.errors !== undefined && result.errors.length > 0) return;
        setResult(Object.assign(result, { stringify }));
      };
      // Lists count their real size here too; a refusal is an error, so the
      // request then takes the ordinary pipeline, which refuses it.
      costLimit?.beginExecution(context);
      const result = entry.query(undefined, context, variables);
      if (result instanceof Promise) return result.then(use);
      use(result);
      return undefined;
    },
    onExecute({ args }) {
      const key = operationKey(args.contextValue.params);
      if (key === undefined || verified.peek(key) !== undefined) return undefined;
      // Too large to be kept: its serializer would be compiled for nothing.
      if (compiledBytes(key) > cache.bounds.maxBytes) return undefined;
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in result) return;
          if (result.errors !== undefined && result.errors.length > 0) return;
          // envelop types the arguments' graphql parts as any.
          const { schema, document, operationName } = args as ExecutionArgs;
          const cost =
            costLimit === undefined ? 0 : costLimit.operationCost(schema, document, operationName);
          if (cost === undefined) return;
          verified.set(key, {
            cost,
            stringify: compileResultSerializer(schema, document, operationName),
          });
        },
      };
    },
  };
}

import type { JITCache } from '@envelop/graphql-jit';
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import type { Cost, CostLimit } from './cost-limit.js';
import { compileResultSerializer } from './result-serializer.js';

type JitEntry = NonNullable<ReturnType<JITCache['get']>>;

/** Drops the oldest key of a bounded Map or Set once it holds max. */
function makeRoom(keys: Map<string, unknown> | Set<string>, max: number): void {
  if (keys.size < max) return;
  const oldest = keys.keys().next();
  if (oldest.done !== true) keys.delete(oldest.value);
}

/**
 * graphql-jit's compiled queries by document text, bounded (oldest dropped
 * first): useGraphQlJit fills it, useCompiledOperations reads it.
 */
export class CompiledQueryCache implements JITCache {
  private readonly entries = new Map<string, JitEntry>();

  constructor(private readonly max: number) {}

  get(key: string): JitEntry | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: JitEntry): void {
    if (!this.entries.has(key)) makeRoom(this.entries, this.max);
    this.entries.set(key, value);
  }
}

interface VerifiedOperation {
  readonly cost: Cost;
  /** The operation's own serializer; undefined when its shape is not fixed by its document. */
  readonly stringify: ((result: ExecutionResult) => string) | undefined;
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
export function useCompiledOperations(
  cache: CompiledQueryCache,
  max: number,
  costLimit?: CostLimit,
): Plugin {
  /** Operations run without error, with their cost (0 without a cost limit) and serializer. */
  const verified = new Map<string, VerifiedOperation>();
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
      const result = entry.query(undefined, context, variables);
      if (result instanceof Promise) return result.then(use);
      use(result);
      return undefined;
    },
    onExecute({ args }) {
      const key = operationKey(args.contextValue.params);
      if (key === undefined || verified.has(key)) return undefined;
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in result) return;
          if (result.errors !== undefined && result.errors.length > 0) return;
          // envelop types the arguments' graphql parts as any.
          const { schema, document, operationName } = args as ExecutionArgs;
          const cost =
            costLimit === undefined ? 0 : costLimit.operationCost(schema, document, operationName);
          if (cost === undefined) return;
          makeRoom(verified, max);
          verified.set(key, {
            cost,
            stringify: compileResultSerializer(schema, document, operationName),
          });
        },
      };
    },
  };
}

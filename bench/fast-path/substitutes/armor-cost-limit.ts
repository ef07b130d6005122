/**
 * Stands in for src/graphql/limits.ts with graphql-armor's cost limit
 * (@escape.tech/graphql-armor-cost-limit) instead of ours: the same depth
 * and alias limits and the same maximum cost, the cost counted by armor at
 * validation only (literal `first`/`last` multiply, a variable's page size
 * and lists without a page size count once), nothing per request. The
 * CostLimit handed to the schema (lists' charge) and to
 * useCompiledOperations does nothing: every operation's cost is the
 * constant 0, admitted.
 */
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { GraphQLError, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { CostLimit } from '../../../src/graphql/cost-limit.js';
import type { GraphQLLimits } from '../../../src/graphql/limits.js';

export { DEFAULT_GRAPHQL_LIMITS, type GraphQLLimits } from '../../../src/graphql/limits.js';

process.stderr.write(
  `bench, pid ${process.pid}: graphql-armor's cost limit in place of ours (src/graphql/limits.ts substituted)\n`,
);

/** As src/graphql/limits.ts reports a refusal: a validation error naming the setting. */
function refusal(setting: string): {
  propagateOnRejection: false;
  onReject: ((context: ValidationContext | null, error: GraphQLError) => void)[];
} {
  const report = (context: ValidationContext | null, error: GraphQLError): void => {
    const message = error.message.replace(/^Syntax Error: /, '');
    context?.reportError(new GraphQLError(`${message} The limit is ${setting}.`));
  };
  return { propagateOnRejection: false, onReject: [report] };
}

const nothing = (): undefined => undefined;

/** A CostLimit that counts nothing: armor's rule (in limitPlugins) is the limit. */
export function costLimit(_limits: GraphQLLimits): CostLimit {
  const inert = {
    beginExecution: nothing,
    executionRefusal: nothing,
    charge: nothing,
    operationCost: () => 0,
    admits: () => true,
    refusal: nothing,
  };
  return inert as unknown as CostLimit;
}

export function limitPlugins(limits: GraphQLLimits, _cost?: CostLimit): Plugin[] {
  return [
    maxDepthPlugin({
      n: limits.maxDepth,
      ignoreIntrospection: true,
      ...refusal('--graphql.max-depth (GRAPHQL_MAX_DEPTH)'),
    }),
    costLimitPlugin({
      maxCost: limits.maxCost,
      ...refusal('--graphql.max-cost (GRAPHQL_MAX_COST)'),
    }),
    maxAliasesPlugin({
      n: limits.maxAliases,
      ...refusal('--graphql.max-aliases (GRAPHQL_MAX_ALIASES)'),
    }),
  ];
}

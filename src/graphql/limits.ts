import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { GraphQLError, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { CostLimit } from './cost-limit.js';

/** Bounds on what one request may ask for. */
export interface GraphQLLimits {
  /** Deepest field nesting of an operation (introspection excluded). */
  readonly maxDepth: number;
  /**
   * Largest cost of an operation, graphql-armor's static estimate: 1 per
   * scalar, 2 per object, children weighted 1.5 per level, a selection
   * multiplied by its page size as served: a literal `first`, a variable's
   * value, or the default (100) when omitted, capped at maxPageSize (see
   * CostLimit, checked at validation and again once the variables are known).
   */
  readonly maxCost: number;
  /** Most aliases in an operation. */
  readonly maxAliases: number;
  /** Largest page of `channels`; a larger `first` is capped to it. */
  readonly maxPageSize: number;
  /** Largest request body, in bytes. */
  readonly maxRequestBytes: number;
}

/**
 * Room for every legitimate query: the deepest useful one,
 * channels { nodes { peer { channels { onlinePeriods { start } } } } }, has
 * depth 6; a full page of 1000 channels with every scalar field of a channel
 * and its peer costs about 50 000.
 */
export const DEFAULT_GRAPHQL_LIMITS: GraphQLLimits = {
  maxDepth: 10,
  maxCost: 100_000,
  // 20 peers asked by alias is ordinary; the cost limit bounds what aliases make the
  // exporter do, and the 64 KiB body bounds the document (about 600 aliased peer queries).
  maxAliases: 1000,
  maxPageSize: 1000,
  maxRequestBytes: 64 * 1024,
};

/**
 * Reports a limit's refusal as an ordinary validation error (GRAPHQL_VALIDATION_FAILED,
 * cached with the document; HTTP 400 for application/graphql-response+json clients, 200
 * for application/json ones) instead of letting graphql-armor throw it out of validation. Its messages start with
 * "Syntax Error: ", which they are not.
 */
function refusal(setting: string): {
  propagateOnRejection: false;
  onReject: ((context: ValidationContext | null, error: GraphQLError) => void)[];
} {
  const report = (context: ValidationContext | null, error: GraphQLError): void => {
    const message = error.message.replace(/^Syntax Error: /, '');
    // Which setting lifts it, as every limit's refusal says.
    context?.reportError(new GraphQLError(`${message} The limit is ${setting}.`));
  };
  return { propagateOnRejection: false, onReject: [report] };
}

/** The cost limit of these limits. */
export function costLimit(limits: GraphQLLimits): CostLimit {
  return new CostLimit({ maxCost: limits.maxCost, maxPageSize: limits.maxPageSize });
}

/**
 * The depth, cost and alias limits: graphql-armor's validation rules for
 * depth and aliases, and the cost limit (at validation, and before execution
 * when a page size is a variable).
 */
export function limitPlugins(limits: GraphQLLimits, cost: CostLimit = costLimit(limits)): Plugin[] {
  return [
    maxDepthPlugin({
      n: limits.maxDepth,
      ignoreIntrospection: true,
      ...refusal('--graphql.max-depth (GRAPHQL_MAX_DEPTH)'),
    }),
    cost.plugin(),
    maxAliasesPlugin({
      n: limits.maxAliases,
      ...refusal('--graphql.max-aliases (GRAPHQL_MAX_ALIASES)'),
    }),
  ];
}

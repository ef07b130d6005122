import type { GraphQLResolveInfo } from 'graphql';

/**
 * What resolvers of lists without a page size tell the cost limit before
 * building them: the list's real size (see CostLimit.charge). Throws the
 * refusal when the query goes over the limit.
 */
export interface ListCost {
  charge(context: unknown, info: GraphQLResolveInfo, size: number): void;
}

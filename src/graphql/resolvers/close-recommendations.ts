import type { GraphQLResolveInfo } from 'graphql';
import type { NodeCloseAnalysis } from '../close-recommendations.js';
import type { ListCost } from '../list-cost.js';
import type { CloseRecommendationsResult } from '../models.js';

/** CloseRecommendations' fields are the result's own but byNode, a list without a page size. */
export function closeRecommendationsResolvers(lists: ListCost) {
  return {
    byNode: (
      result: CloseRecommendationsResult,
      _args: unknown,
      context: unknown,
      info: GraphQLResolveInfo,
    ): readonly NodeCloseAnalysis[] => {
      // Counted at its real size against the cost limit, as `nodes` is.
      lists.charge(context, info, result.byNode.length);
      return result.byNode;
    },
  };
}

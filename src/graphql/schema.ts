import type { GraphQLSchema } from 'graphql';
import { createSchema } from 'graphql-yoga';
import type { Scheduler } from '../clock.js';
import type { EventHub } from './event-hub.js';
import { channelResolvers } from './resolvers/channel.js';
import { closeRecommendationsResolvers } from './resolvers/close-recommendations.js';
import { nodeResolvers } from './resolvers/node.js';
import { outagesResolvers } from './resolvers/outages.js';
import { peerResolvers } from './resolvers/peer.js';
import { queryResolvers, type QueryDeps } from './resolvers/query.js';
import { subscriptionResolvers } from './resolvers/subscription.js';
import { DateTimeScalar, DurationScalar } from './scalars.js';
import { loadSchemaSource } from './schema-file.js';

/** What the resolvers read: the stores for queries, the event hub for subscriptions. */
export interface SchemaDeps extends QueryDeps {
  readonly events: EventHub;
  /** The queries' now, and the subscriptions' timers. */
  readonly clock: Scheduler;
}

/**
 * The executable schema: graphql/schema.graphql with our resolvers. Building
 * it fails when a resolver names a type or field the file lacks.
 */
export function buildSchema(
  deps: SchemaDeps,
  typeDefs: string = loadSchemaSource(),
): GraphQLSchema {
  return createSchema({
    typeDefs,
    resolvers: {
      DateTime: DateTimeScalar,
      Duration: DurationScalar,
      Query: queryResolvers(deps),
      Subscription: subscriptionResolvers(deps.events, deps.clock),
      Node: nodeResolvers(deps.clock, deps.lists),
      Channel: channelResolvers(deps.clock, deps.lists),
      Peer: peerResolvers(deps.clock, deps.lists),
      Outages: outagesResolvers(deps),
      CloseRecommendations: closeRecommendationsResolvers(deps.lists),
    },
  });
}

import type { GraphQLSchema } from 'graphql';
import { createSchema } from 'graphql-yoga';
import { channelResolvers } from './resolvers/channel.js';
import { nodeResolvers } from './resolvers/node.js';
import { peerResolvers } from './resolvers/peer.js';
import { queryResolvers, type QueryDeps } from './resolvers/query.js';
import { DateTimeScalar } from './scalars.js';
import { loadSchemaSource } from './schema-file.js';

/**
 * The executable schema: graphql/schema.graphql with our resolvers. Building
 * it fails when a resolver names a type or field the file lacks.
 */
export function buildSchema(deps: QueryDeps, typeDefs: string = loadSchemaSource()): GraphQLSchema {
  return createSchema({
    typeDefs,
    resolvers: {
      DateTime: DateTimeScalar,
      Query: queryResolvers(deps),
      Node: nodeResolvers,
      Channel: channelResolvers(deps.clock, deps.lists),
      Peer: peerResolvers(deps.clock, deps.lists),
    },
  });
}

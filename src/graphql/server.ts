// First: it changes how graphql-jit's module is set up when it loads.
import './jit-memory.js';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { Kind, type DocumentNode } from 'graphql';
import { createYoga, type YogaServerInstance, type YogaServerOptions } from 'graphql-yoga';
import type { Scheduler } from '../clock.js';
import type { Logger } from '../log/logger.js';
import type { NodeStores } from '../store/node-stores.js';
import type { FlapRecord } from '../store/peer-monitor.js';
import { useRequestBodyLimit } from './body-limit.js';
import { CompiledQueryCache, useCompiledOperations } from './compiled-operations.js';
import { DEFAULT_MAX_SUBSCRIPTIONS, DEFAULT_QUEUE_SIZE, EventHub } from './event-hub.js';
import {
  DEFAULT_DOCUMENT_CACHE_BOUNDS,
  ParseCaches,
  type DocumentCacheBounds,
} from './document-caches.js';
import { useDisableIntrospection } from './introspection.js';
import { costLimit, DEFAULT_GRAPHQL_LIMITS, limitPlugins, type GraphQLLimits } from './limits.js';
import { yogaLogger } from './logging.js';
import { useRefusals } from './refusals.js';
import { buildSchema } from './schema.js';

/** Where the API is served; the HTTP server routes this path to the GraphQL server. */
export const GRAPHQL_PATH = '/graphql';

/** The page size of `channels` when `first` is omitted (the schema's default). */
const DEFAULT_PAGE_SIZE = 100;

const GRAPHIQL_QUERY = `# Channels with the lowest uptime first
{
  channels(first: 20) {
    totalCount
    nodes {
      node
      channelPoint
      lifetimeSeconds
      uptimeRatio
      peer { pubkey online flapCount lastFlap }
    }
    pageInfo { endCursor hasNextPage }
  }
}
`;

export interface GraphQLServerDeps {
  readonly stores: NodeStores;
  /** The queries' now, and the timers of the subscriptions. */
  readonly clock: Scheduler;
  /**
   * A peer's persisted flap record (undefined when there is none), for peers
   * not monitored in memory, including peers of nodes not seen since start.
   * A rejection is an unexpected error: masked for the client, logged.
   */
  readonly readPersistedFlapRecord: (
    node: string,
    pubkey: string,
  ) => Promise<FlapRecord | undefined>;
  /** The peer of a channel whose open waits for that peer's flap record (RecordGate.heldChannelPeer). */
  readonly heldChannelPeer?: (node: string, channelPoint: string) => string | undefined;
  readonly logger: Logger;
  /** Overrides of DEFAULT_GRAPHQL_LIMITS. */
  readonly limits?: Partial<GraphQLLimits>;
  /** Whether `__schema`/`__type` queries are answered (GraphiQL needs them). */
  readonly introspection: boolean;
  /** Whether a browser's GET on /graphql gets GraphiQL. */
  readonly graphiql: boolean;
  /** Origins allowed by CORS; none (the default) sends no CORS headers. */
  readonly corsOrigins?: readonly string[];
  /** Compile queries with graphql-jit (default true). */
  readonly jit?: boolean;
  /** Overrides of DEFAULT_DOCUMENT_CACHE_BOUNDS. */
  readonly documentCaches?: Partial<DocumentCacheBounds>;
  /**
   * Where subscriptions take their events (fed by the stores' observers).
   * Omitted, a hub of its own that nothing feeds: for servers that only answer queries.
   */
  readonly events?: EventHub;
}

type Context = Record<string, unknown>;

export type GraphQLServer = YogaServerInstance<Context, Context>;

type YogaPlugin = NonNullable<YogaServerOptions<Context, Context>['plugins']>[number];

/**
 * Whether a document has a single operation. graphql-jit's plugin keeps one
 * compiled query per document, for whichever operation it compiled first: a
 * document of several runs on graphql-js, or another of its operations would
 * be answered with that one's result.
 */
function oneOperation(document: DocumentNode): boolean {
  let operations = 0;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) operations++;
  }
  return operations === 1;
}

/**
 * The GraphQL API as a graphql-yoga instance: a node:http request listener
 * for /graphql (`server(req, res)`), also usable in process with
 * `server.fetch(url, init)`.
 */
export function createGraphQLServer(deps: GraphQLServerDeps): GraphQLServer {
  const limits: GraphQLLimits = { ...DEFAULT_GRAPHQL_LIMITS, ...deps.limits };
  const cost = costLimit(limits);
  const schema = buildSchema({
    stores: deps.stores,
    clock: deps.clock,
    readPersistedFlapRecord: deps.readPersistedFlapRecord,
    heldChannelPeer: deps.heldChannelPeer,
    defaultPageSize: Math.min(DEFAULT_PAGE_SIZE, limits.maxPageSize),
    maxPageSize: limits.maxPageSize,
    lists: cost,
    events:
      deps.events ??
      new EventHub({ maxSubscriptions: DEFAULT_MAX_SUBSCRIPTIONS, queueSize: DEFAULT_QUEUE_SIZE }),
  });
  const caches: DocumentCacheBounds = { ...DEFAULT_DOCUMENT_CACHE_BOUNDS, ...deps.documentCaches };
  const logger = deps.logger.child({ component: 'graphql' });
  const parseCaches = new ParseCaches(caches);
  const plugins: YogaPlugin[] = [
    useRequestBodyLimit(limits.maxRequestBytes),
    useRefusals(schema),
    parseCaches.plugin(),
    ...limitPlugins(limits, cost),
  ];
  if (!deps.introspection) plugins.push(useDisableIntrospection());
  if (deps.jit ?? true) {
    const compiled = new CompiledQueryCache(caches.compiled);
    plugins.push(
      useGraphQlJit(
        {},
        {
          cache: compiled,
          // Only documents whose compiled query can be kept; the others run on graphql-js.
          enableIf: (args) => oneOperation(args.document) && parseCaches.compiles(args.document),
          // Instead of console.error: the failed result is masked and logged by yoga.
          onError: (result) => {
            logger.debug({ errors: result.errors }, 'graphql-jit could not compile a query');
          },
        },
      ),
      useCompiledOperations(compiled, cost),
    );
  }
  const origins = deps.corsOrigins ?? [];
  return createYoga<Context, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    plugins,
    // Bounded by entries and estimated bytes: yoga's defaults keep 1024 documents of any size.
    parserAndValidationCache: parseCaches.yogaOptions(),
    logging: yogaLogger(logger),
    // Unexpected errors reach the client as "Unexpected error." and the log in full.
    maskedErrors: { isDev: false },
    graphiql: deps.graphiql
      ? { title: 'chanfitness-exporter', defaultQuery: GRAPHIQL_QUERY }
      : false,
    // GraphiQL served from the package, not a CDN: node operators often run offline. Its
    // bundle is large: loaded on the first browser visit, not at every start.
    renderGraphiQL: async (options) => {
      const { renderGraphiQL } = await import('@graphql-yoga/render-graphiql');
      return renderGraphiQL(options);
    },
    landingPage: false,
    // Never credentials cross-origin: a page elsewhere must not read the API with a
    // browser's saved basic-auth credentials.
    cors:
      origins.length === 0
        ? false
        : { origin: [...origins], methods: ['GET', 'POST'], credentials: false },
    // Enforced by useRequestBodyLimit, cheaper on requests with a Content-Length.
    maxRequestBodySize: false,
  });
}

/**
 * One server of the GraphQL benchmark, in a process of its own (forked by
 * bench/graphql.bench.ts, pinned to one CPU): `ours`, `yoga`, `graphql-js` or
 * `bare`. Sends { port } over IPC once it listens; exits on 'stop'. On
 * { profile: 'start' } it starts V8's CPU profiler, on { profile: 'stop', path }
 * writes the profile there (.cpuprofile, for Chrome DevTools) and answers
 * { profiled: path }. On 'cpu' it answers { cpuMicros } (user + system so far).
 * On { parts: answer } (`ours` only) it measures where a page's CPU goes
 * (bench/graphql/parts.ts) and answers { parts }.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import {
  execute,
  parse,
  validate,
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
} from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { createGraphQLServer } from '../../src/graphql/server.js';
import { loadSchemaSource } from '../../src/graphql/schema-file.js';
import type { NodeStores } from '../../src/store/node-stores.js';
import { createHttpServer } from '../../src/http/http-server.js';
import { IngestStats } from '../../src/ingest/ingest-stats.js';
import { createLogger } from '../../src/log/logger.js';
import { Exposition } from '../../src/metrics/exposition.js';
import { ConnectionState } from '../../src/nats/connection-state.js';
import { FlushStats } from '../../src/persistence/flush-stats.js';
import {
  buildStores,
  CHANNEL_BODY,
  fixedClock,
  plainChannels,
  type PlainChannel,
} from './fixture.js';
import { measurePageParts } from './parts.js';

export type ServerKind = 'ours' | 'yoga' | 'yoga-presorted' | 'graphql-js' | 'bare';

interface ChannelArgs {
  readonly channelPoint: string;
}

interface ChannelsArgs {
  readonly first?: number | null;
}

function rank(channel: PlainChannel): number {
  return channel.uptimeRatio ?? Number.POSITIVE_INFINITY;
}

/** The default order (UPTIME_RATIO_ASC): ratio ascending, no ratio last, then channel point. */
function byUptimeRatio(a: PlainChannel, b: PlainChannel): number {
  const x = rank(a);
  const y = rank(b);
  if (x !== y) return x < y ? -1 : 1;
  return a.channelPoint < b.channelPoint ? -1 : a.channelPoint > b.channelPoint ? 1 : 0;
}

/**
 * The schema file with naive resolvers over a plain Map of plain objects
 * (figures precomputed): a channel is a Map lookup; a page sorts the Map's
 * values by uptime ratio and takes the first ones (or, `presorted`, takes the
 * first entries of a Map already in that order: no ordering work at all).
 * Every field is read by graphql's default resolver.
 */
function naiveSchema(channels: Map<string, PlainChannel>, presorted = false): GraphQLSchema {
  return createSchema({
    typeDefs: loadSchemaSource(),
    resolvers: {
      Query: {
        channel: (_: unknown, args: ChannelArgs) => channels.get(args.channelPoint) ?? null,
        channels: (_: unknown, args: ChannelsArgs) => {
          const first = args.first ?? 100;
          const nodes: PlainChannel[] = [];
          const ordered = presorted
            ? channels.values()
            : [...channels.values()].sort(byUptimeRatio);
          for (const channel of ordered) {
            if (nodes.length >= first) break;
            nodes.push(channel);
          }
          return {
            nodes,
            totalCount: channels.size,
            pageInfo: { endCursor: null, hasNextPage: channels.size > first },
          };
        },
      },
    },
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      resolve(body);
    });
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, body: string): void {
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * graphql-js `execute` for every request on bare node:http; each distinct
 * query is parsed and validated once (as yoga's caches do), so that this is
 * the cost of HTTP, JSON and graphql-js execution alone.
 */
function graphqlJsListener(schema: GraphQLSchema) {
  const documents = new Map<string, { document: DocumentNode; errors: readonly GraphQLError[] }>();
  return (req: IncomingMessage, res: ServerResponse): void => {
    void readBody(req).then(async (text) => {
      const { query, variables } = JSON.parse(text) as {
        query: string;
        variables?: Record<string, unknown>;
      };
      let known = documents.get(query);
      if (known === undefined) {
        const document = parse(query);
        known = { document, errors: validate(schema, document) };
        documents.set(query, known);
      }
      const result =
        known.errors.length > 0
          ? { errors: known.errors }
          : await execute({ schema, document: known.document, variableValues: variables ?? null });
      sendJson(res, JSON.stringify(result));
    });
  };
}

/** The benchmark's store, for the page's breakdown (`ours` only). */
let ourStores: NodeStores | undefined;

async function listen(kind: ServerKind): Promise<number> {
  const stores = await buildStores();
  if (kind === 'ours') {
    ourStores = stores;
    const logger = createLogger({ level: 'warn', format: 'json', destination: process.stderr });
    const graphql = createGraphQLServer({
      stores,
      clock: fixedClock,
      readPersistedFlapRecord: () => Promise.resolve(undefined),
      logger,
      introspection: false,
      graphiql: false,
    });
    const exposition = new Exposition({
      stores,
      ingest: new IngestStats(),
      flush: new FlushStats(),
      connection: new ConnectionState(),
      clock: fixedClock,
    });
    const http = await createHttpServer({
      listenAddress: { address: '127.0.0.1:0', host: '127.0.0.1', port: 0 },
      exposition,
      graphql,
      readiness: () => ({ ready: true, reasons: [] }),
      logger,
    });
    return http.address.port;
  }
  const channels = plainChannels(stores);
  let listener: (req: IncomingMessage, res: ServerResponse) => void;
  if (kind === 'yoga' || kind === 'yoga-presorted') {
    // graphql-yoga with its defaults: no JIT, no caches beyond its own.
    const yoga = createYoga({ schema: naiveSchema(channels, kind === 'yoga-presorted') });
    listener = (req, res) => {
      void yoga(req, res);
    };
  } else if (kind === 'graphql-js') {
    listener = graphqlJsListener(naiveSchema(channels));
  } else {
    // The one-channel answer, computed once: only HTTP is left.
    const schema = naiveSchema(channels);
    const { query, variables } = JSON.parse(CHANNEL_BODY) as {
      query: string;
      variables: Record<string, unknown>;
    };
    const answer = JSON.stringify(
      await execute({ schema, document: parse(query), variableValues: variables }),
    );
    listener = (req, res) => {
      void readBody(req).then(() => {
        sendJson(res, answer);
      });
    };
  }
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/**
 * CPU time of the main thread so far (user + system, from /proc; the whole
 * process's where /proc is missing): per request, a figure that other load on
 * the machine disturbs less than throughput, and that leaves out V8's helper
 * threads.
 */
function mainThreadCpuMicros(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1e6) / CLOCK_TICKS;
  } catch {
    const usage = process.cpuUsage();
    return usage.user + usage.system;
  }
}

/** USER_HZ: the unit of /proc CPU times (100 on Linux everywhere that matters). */
const CLOCK_TICKS = 100;

type Message =
  'stop' | 'cpu' | { profile: 'start' } | { profile: 'stop'; path: string } | { parts: string };

const kind = process.argv[2] as ServerKind;
const port = await listen(kind);
let session: Session | undefined;
process.on('message', (message: Message) => {
  if (message === 'stop') process.exit(0);
  if (message === 'cpu') {
    process.send?.({ cpuMicros: mainThreadCpuMicros() });
    return;
  }
  if ('parts' in message) {
    process.send?.({
      parts: ourStores === undefined ? undefined : measurePageParts(ourStores, message.parts),
    });
    return;
  }
  void (async () => {
    if (message.profile === 'start') {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      process.send?.({ profiling: true });
    } else if (session !== undefined) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(message.path, JSON.stringify(profile));
      session.disconnect();
      session = undefined;
      process.send?.({ profiled: message.path });
    }
  })();
});
process.send?.({ port });

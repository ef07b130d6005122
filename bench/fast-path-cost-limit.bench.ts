/**
 * Fast path 2, the GraphQL cost limit (src/graphql/cost-limit.ts,
 * list-cost.ts), weighed against graphql-armor's cost limit
 * (@escape.tech/graphql-armor-cost-limit, installed as a devDependency for
 * this benchmark only) on the whole server: req/s and server CPU per request
 * at 50 connections for typical queries, our server as it is against the
 * same server with src/graphql/limits.ts swapped for one that puts armor's
 * rule in place of ours (bench/fast-path/substitutes/armor-cost-limit.ts:
 * same depth and alias limits, same maximum cost, nothing per request).
 *
 * They do not count the same: ours counts page sizes as served (literal,
 * variable or default) and every list without a page size at its real size
 * as it is built; armor counts statically, at validation, a literal
 * `first`/`last` and nothing else. A query of each kind shows the
 * difference: its answer from both servers is in the notes.
 */
import { QuietLog } from './quiet.js';
import { report } from './result.js';
import { CHANNEL_BODY, PAGE_BODY } from './graphql/fixture.js';
import {
  answer,
  CONNECTIONS,
  failuresNote,
  fastPathRows,
  KEEP_RATIO,
  loadAll,
  percent,
  pinning,
  startServer,
  WARMUP_SECONDS,
  type Load,
  type Server,
} from './graphql/load.js';

const SECONDS = Number(process.env.GRAPHQL_BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.GRAPHQL_BENCH_ROUNDS ?? 5);

/** A page whose every channel lists its peer's channels: a list charged by ours per peer. */
const PEER_CHANNELS_QUERY = `query PeerChannels {
  channels(first: 100) {
    nodes {
      channelPoint uptimeRatio
      peer { pubkey online channels { channelPoint uptimeRatio } }
    }
  }
}`;

/** Nested lists with the page size in a variable: what armor counts as one page of one. */
const NESTED_QUERY = `query Nested($n: Int) {
  channels(first: $n) {
    nodes {
      channelPoint
      peer { channels { channelPoint peer { channels { channelPoint peer { pubkey } } } } }
    }
  }
}`;

const BODIES: Record<string, string> = {
  channel: CHANNEL_BODY,
  page: PAGE_BODY,
  'peer channels': JSON.stringify({ query: PEER_CHANNELS_QUERY }),
};
const LABELS: Record<string, string> = {
  channel: 'one-channel query',
  page: '100-channel page',
  'peer channels': "100-channel page with each peer's channels (a list charged per peer)",
};

const started = performance.now();
const quiet = new QuietLog();
const servers: Server[] = [];
let loads: Map<string, Load>;
const answers = new Map<string, string>();
const nested = new Map<string, string>();
try {
  servers.push(await startServer('ours', 'ours'));
  servers.push(
    await startServer('armor', 'ours', {
      'src/graphql/limits.ts': 'bench/fast-path/substitutes/armor-cost-limit.ts',
    }),
  );
  for (const server of servers) {
    for (const [query, body] of Object.entries(BODIES)) {
      answers.set(`${server.name} ${query}`, await answer(server.url, body));
    }
    const reply = await answer(
      server.url,
      JSON.stringify({ query: NESTED_QUERY, variables: { n: 1000 } }),
    );
    nested.set(server.name, reply.slice(0, reply.indexOf(' ') + 220));
  }
  loads = await loadAll(servers, BODIES, ROUNDS, SECONDS, quiet);
} finally {
  for (const server of servers) await server.stop();
}

const mismatches = Object.keys(BODIES).filter(
  (q) => answers.get(`ours ${q}`) !== answers.get(`armor ${q}`),
);
const { rows, gains, gain } = fastPathRows(
  loads,
  LABELS,
  { with: 'ours', without: 'armor', baselineName: "graphql-armor's cost limit" },
  (label, what) => `cost limit, ${label}: ${what}, ours`,
);

report({
  name: "Fast path: our GraphQL cost limit against graphql-armor's",
  rows,
  notes: [
    `Verdict, cost limit (src/graphql/cost-limit.ts, list-cost.ts): ${gain >= KEEP_RATIO ? 'keep by the speed rule' : 'delete by the speed rule'}: it gains ${percent(gain)} on the whole server over the queries below (the geometric mean of ours against armor, by CPU per request; positive: ours cheaper: ${gains.join('; ')}). But armor is not the same limit: ours counts page sizes as served (literal, variable or default) and every list without a page size at its real size as it is built; armor counts statically at validation, a literal first/last and nothing else, so it admits what ours refuses (the nested query below). Replacing ours would change what is refused, not only how fast: it stays, whatever the speed rule says.`,
    `Nested lists with the page size in a variable (channels(first: $n) { nodes { peer { channels { peer { channels { peer }}}}}}, n = 1000): ours answered ${nested.get('ours') ?? '?'}; armor answered ${nested.get('armor') ?? '?'}.`,
    `Servers: bench/graphql/server.ts 'ours' (createGraphQLServer behind createHttpServer, 10,000 channels over 2,000 peers, two weeks of history), once as it is and once with src/graphql/limits.ts swapped for bench/fast-path/substitutes/armor-cost-limit.ts (armor's costLimitPlugin at the same --graphql.max-cost, the same depth and alias limits; the CostLimit given to the resolvers and to useCompiledOperations does nothing). Every answer checked equal between the two${mismatches.length > 0 ? ` (MISMATCH: ${mismatches.join(', ')})` : ''}.`,
    `autocannon ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up, then ${ROUNDS} rounds of ${SECONDS} s per server and query, alternating, each after waiting for the machine to be quiet; the best req/s and the lowest server CPU per request (main-thread CPU from /proc over the run / requests answered) of each. The verdict goes by CPU per request, the figure other load on the machine disturbs least (on a single-threaded server at saturation req/s is its inverse). ${pinning ? 'Servers pinned to CPU 0, autocannon to CPU 1' : 'taskset unavailable: processes not pinned'}. Ratio = ours / armor for req/s, armor / ours for CPU (above 1: ours is cheaper).`,
    quiet.note(),
    failuresNote(loads),
    `Run took ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  ],
});

/**
 * Fast path 4, the result serializer compiled per operation, deleted from
 * src/graphql after this weighing and kept in bench/fast-path/substitutes/
 * (result-serializer.ts, serializing-compiled-operations.ts): the whole
 * GraphQL server (bench/graphql/server.ts 'ours') as it is, writing answers
 * with graphql-jit's stringify, against the same server with
 * src/graphql/compiled-operations.ts swapped for the one that compiled a
 * serializer per operation; req/s and server CPU per request at 50
 * connections.
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

const BODIES: Record<string, string> = { channel: CHANNEL_BODY, page: PAGE_BODY };
const LABELS: Record<string, string> = {
  channel: 'one-channel query',
  page: '100-channel page',
};

const started = performance.now();
const quiet = new QuietLog();
const servers: Server[] = [];
let loads: Map<string, Load>;
const answers = new Map<string, string>();
try {
  servers.push(await startServer('stringify', 'ours'));
  servers.push(
    await startServer('compiled', 'ours', {
      'src/graphql/compiled-operations.ts':
        'bench/fast-path/substitutes/serializing-compiled-operations.ts',
    }),
  );
  for (const server of servers) {
    for (const [query, body] of Object.entries(BODIES)) {
      answers.set(`${server.name} ${query}`, await answer(server.url, body));
    }
  }
  loads = await loadAll(servers, BODIES, ROUNDS, SECONDS, quiet);
} finally {
  for (const server of servers) await server.stop();
}

const mismatches = Object.keys(BODIES).filter(
  (q) => answers.get(`stringify ${q}`) !== answers.get(`compiled ${q}`),
);
const { rows, gains, gain } = fastPathRows(
  loads,
  LABELS,
  { with: 'compiled', without: 'stringify', baselineName: "graphql-jit's stringify" },
  (label, what) => `compiled serializer, ${label}: ${what}, with it`,
);

report({
  name: "Fast path: a serializer compiled per operation against graphql-jit's stringify",
  rows,
  notes: [
    `Verdict, compiled serializer (deleted from src/graphql; kept as bench/fast-path/substitutes/result-serializer.ts to weigh it again): ${gain >= KEEP_RATIO ? 'bring it back' : 'it stays deleted'}: it gains ${percent(gain)} on the whole server over the queries below (the geometric mean of the ratios of CPU per request, without / with: above 1, the serializer is cheaper: ${gains.join('; ')}).`,
    `Servers: bench/graphql/server.ts 'ours' (createGraphQLServer behind createHttpServer, 10,000 channels over 2,000 peers, two weeks of history), once as it is and once with src/graphql/compiled-operations.ts swapped for the substitute that compiles a serializer per verified operation. Every answer checked equal between the two${mismatches.length > 0 ? ` (MISMATCH: ${mismatches.join(', ')})` : ''}.`,
    `autocannon ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up, then ${ROUNDS} rounds of ${SECONDS} s per server and query, alternating, each after waiting for the machine to be quiet; the best req/s and the lowest server CPU per request (main-thread CPU from /proc over the run / requests answered) of each. ${pinning ? 'Servers pinned to CPU 0, autocannon to CPU 1' : 'taskset unavailable: processes not pinned'}.`,
    quiet.note(),
    failuresNote(loads),
    `Run took ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  ],
});

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
import { report, type BenchRow } from './result.js';
import { CHANNEL_BODY, PAGE_BODY } from './graphql/fixture.js';
import {
  answer,
  CONNECTIONS,
  loadAll,
  pinning,
  startServer,
  WARMUP_SECONDS,
  type Load,
  type Server,
} from './graphql/load.js';

const SECONDS = Number(process.env.GRAPHQL_BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.GRAPHQL_BENCH_ROUNDS ?? 5);
const KEEP_RATIO = 1.1;

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
const get = (key: string): Load => {
  const load = loads.get(key);
  if (load === undefined) throw new Error(`no figures for ${key}`);
  return load;
};

const percent = (ratio: number): string => `${((ratio - 1) * 100).toFixed(1)}%`;
const rows: BenchRow[] = [];
const gains: string[] = [];
let bestGain = Number.NEGATIVE_INFINITY;
const baselineName = "graphql-jit's stringify";
for (const query of Object.keys(BODIES)) {
  const compiled = get(`compiled ${query}`);
  const plain = get(`stringify ${query}`);
  const rpsRatio = compiled.rps / plain.rps;
  const cpuRatio = plain.cpuPerRequest / compiled.cpuPerRequest;
  bestGain = Math.max(bestGain, cpuRatio);
  gains.push(`${LABELS[query]} ${percent(cpuRatio)} CPU per request, ${percent(rpsRatio)} req/s`);
  rows.push(
    {
      metric: `compiled serializer, ${LABELS[query]}: req/s at ${CONNECTIONS} connections, with it`,
      value: compiled.rps,
      unit: 'req/s',
      baseline: plain.rps,
      baselineName,
      ratio: rpsRatio,
    },
    {
      metric: `compiled serializer, ${LABELS[query]}: server CPU per request (main thread), with it`,
      value: compiled.cpuPerRequest,
      unit: 'µs',
      baseline: plain.cpuPerRequest,
      baselineName,
      ratio: cpuRatio,
      target: `>= ${KEEP_RATIO} (keep), else delete`,
      pass: cpuRatio >= KEEP_RATIO,
    },
  );
}
const failures = [...loads.entries()]
  .filter(([, l]) => l.failures > 0)
  .map(([k, l]) => `${k}: ${l.failures}`);

report({
  name: "Fast path: a serializer compiled per operation against graphql-jit's stringify",
  rows,
  notes: [
    `Verdict, compiled serializer (deleted from src/graphql; kept as bench/fast-path/substitutes/result-serializer.ts to weigh it again): ${bestGain >= KEEP_RATIO ? `it gains ${percent(bestGain)} on the whole server: bring it back` : 'stays deleted: it gains under 10% on the whole server'} (by CPU per request, ratio = without / with, above 1: the serializer is cheaper: ${gains.join('; ')}).`,
    `Servers: bench/graphql/server.ts 'ours' (createGraphQLServer behind createHttpServer, 10,000 channels over 2,000 peers, two weeks of history), once as it is and once with src/graphql/compiled-operations.ts swapped for the substitute that compiles a serializer per verified operation. Every answer checked equal between the two${mismatches.length > 0 ? ` (MISMATCH: ${mismatches.join(', ')})` : ''}.`,
    `autocannon ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up, then ${ROUNDS} rounds of ${SECONDS} s per server and query, alternating, each after waiting for the machine to be quiet; the best req/s and the lowest server CPU per request (main-thread CPU from /proc over the run / requests answered) of each. ${pinning ? 'Servers pinned to CPU 0, autocannon to CPU 1' : 'taskset unavailable: processes not pinned'}.`,
    quiet.note(),
    failures.length > 0 ? `Failed requests: ${failures.join(', ')}.` : 'No failed requests.',
    `Run took ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  ],
});

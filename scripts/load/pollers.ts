import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/** Keep-alive connections, as a dashboard or a scraper keeps them. */
const agent = new Agent({ keepAlive: true, maxSockets: 16 });

interface Timed {
  readonly ms: number;
  readonly status: number;
  readonly body: string;
}

/** One HTTP request, timed from its start to the last byte of the answer. */
export function timedRequest(url: string, body?: string): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      url,
      {
        agent,
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          resolve({
            ms: performance.now() - started,
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('request timed out after 30 s')));
    req.end(body);
  });
}

/** What one poll did: its latency and whether it answered as expected. */
export interface PollOutcome {
  readonly ms: number;
  /** HTTP 200 and, for GraphQL, data without errors. */
  readonly ok: boolean;
  /** GraphQL's extensions.code of the first error, if any. */
  readonly code?: string;
}

/**
 * Calls `poll` at a steady rate (a fixed schedule; when a call takes longer than
 * the interval the next starts at once), recording latencies and failures.
 */
export class PacedPoller {
  readonly latencies: number[] = [];
  readonly codes = new Map<string, number>();
  failures = 0;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly perSecond: number,
    private readonly poll: () => Promise<PollOutcome | undefined>,
  ) {}

  start(): void {
    if (this.perSecond <= 0) return;
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async loop(): Promise<void> {
    const interval = 1000 / this.perSecond;
    let next = performance.now();
    while (!this.stopped) {
      try {
        const outcome = await this.poll();
        if (outcome !== undefined) {
          this.latencies.push(outcome.ms);
          if (!outcome.ok) this.failures += 1;
          if (outcome.code !== undefined) {
            this.codes.set(outcome.code, (this.codes.get(outcome.code) ?? 0) + 1);
          }
        }
      } catch {
        this.failures += 1;
      }
      next += interval;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else next = performance.now();
    }
  }
}

interface GraphQLAnswer {
  data?: unknown;
  errors?: { extensions?: { code?: string } }[];
}

/** A GraphQL POST, timed. */
export async function graphql(
  url: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<PollOutcome & { data: unknown }> {
  const answer = await timedRequest(`${url}/graphql`, JSON.stringify({ query, variables }));
  let parsed: GraphQLAnswer = {};
  try {
    parsed = JSON.parse(answer.body) as GraphQLAnswer;
  } catch {
    // Counted as a failure below.
  }
  const code = parsed.errors?.[0]?.extensions?.code;
  return {
    ms: answer.ms,
    ok: answer.status === 200 && parsed.data !== undefined && parsed.errors === undefined,
    ...(code === undefined ? {} : { code }),
    data: parsed.data,
  };
}

export const PAGE_QUERY = `query Page($node: String, $first: Int) {
  channels(node: $node, first: $first) {
    totalCount
    nodes { channelPoint uptimeRatio lifetimeSeconds uptimeSeconds peer { pubkey online flapCount } }
    pageInfo { endCursor hasNextPage }
  }
}`;

export const CHANNEL_QUERY = `query One($channelPoint: String!, $node: String) {
  channel(channelPoint: $channelPoint, node: $node) {
    channelPoint openedAt uptimeRatio lifetimeSeconds uptimeSeconds
    peer { pubkey online flapCount lastFlap }
  }
}`;

/** The figures a scrape is read for. */
export interface ScrapeSample {
  /** When the scrape was asked for (ms since the epoch). */
  readonly t: number;
  readonly ms: number;
  readonly bytes: number;
  readonly applied: number;
  readonly rejected: number;
  readonly rssBytes: number;
  readonly channels: number;
  readonly peers: number;
}

const SUMMED = new Set([
  'chanfitness_events_total',
  'chanfitness_events_rejected_total',
  'process_resident_memory_bytes',
  'chanfitness_peer_channels',
]);

/** Sums of a few families of a text exposition (plus the peer_channels sample count). */
export function readScrape(text: string): Omit<ScrapeSample, 't' | 'ms' | 'bytes'> {
  const sums = new Map<string, number>();
  let peers = 0;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const end = line.search(/[{ ]/);
    const name = end < 0 ? line : line.slice(0, end);
    if (!SUMMED.has(name)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    sums.set(name, (sums.get(name) ?? 0) + value);
    if (name === 'chanfitness_peer_channels') peers += 1;
  }
  return {
    applied: sums.get('chanfitness_events_total') ?? 0,
    rejected: sums.get('chanfitness_events_rejected_total') ?? 0,
    rssBytes: sums.get('process_resident_memory_bytes') ?? 0,
    channels: sums.get('chanfitness_peer_channels') ?? 0,
    peers,
  };
}

/** One scrape of /metrics, timed and read. */
export async function scrape(url: string): Promise<ScrapeSample> {
  // The counters are read when the exporter begins to answer: time the sample by the request.
  const t = Date.now();
  const answer = await timedRequest(`${url}/metrics`);
  if (answer.status !== 200) throw new Error(`/metrics answered ${answer.status}`);
  return { t, ms: answer.ms, bytes: Buffer.byteLength(answer.body), ...readScrape(answer.body) };
}

export function closeConnections(): void {
  agent.destroy();
}

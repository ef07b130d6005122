import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { LoadOptions } from './options.js';
import {
  CHANNEL_QUERY,
  closeConnections,
  graphql,
  PacedPoller,
  PAGE_QUERY,
  scrape,
  type ScrapeSample,
} from './pollers.js';
import { ExporterChild, NatsServerProcess, UsageSampler } from './processes.js';
import type { FromPublisher, ToPublisher } from './publisher-protocol.js';
import { summarize, type Summary } from './stats.js';

type Done = Extract<FromPublisher, { kind: 'done' }>;

/** Everything a load run measured. */
export interface LoadResult {
  readonly options: LoadOptions;
  readonly startedAt: Date;
  readonly publisher: Done;
  /** The last scrape, once the exporter had applied what it could. */
  readonly final: ScrapeSample;
  /** Time from the publisher's start until everything published was handled, ms; undefined: never. */
  readonly handledAllAfterMs: number | undefined;
  /** Largest (published - handled) seen at a scrape. */
  readonly maxBacklog: number;
  readonly channelQuery: PollerResult;
  readonly pageQuery: PollerResult;
  readonly scrapes: Summary;
  readonly scrapeFailures: number;
  readonly maxScrapeBytes: number;
  readonly exporter: ProcessResult & { readonly exitCode: number | null };
  readonly publisherProcess: ProcessResult | undefined;
  readonly natsServer: ProcessResult | undefined;
}

export interface PollerResult {
  readonly latency: Summary;
  readonly failures: number;
  readonly codes: ReadonlyMap<string, number>;
}

export interface ProcessResult {
  readonly firstRss: number;
  readonly maxRss: number;
  readonly lastRss: number;
  /** Average cores busy while publishing. */
  readonly cores: number | undefined;
}

/** True when every published message was applied and none rejected. */
export function nothingLost(result: LoadResult): boolean {
  return (
    result.publisher.published > 0 &&
    result.publisher.failed === 0 &&
    result.final.applied === result.publisher.published &&
    result.final.rejected === 0
  );
}

/**
 * One load run: a private nats-server (unless one is given), the built exporter, a
 * publisher process at a steady rate, and GraphQL and /metrics polled meanwhile.
 */
export async function runLoad(
  options: LoadOptions,
  log: (line: string) => void,
): Promise<LoadResult> {
  const startedAt = new Date();
  const id = randomBytes(4).toString('hex');
  const prefix = `load${id}`;
  const nodes = Array.from({ length: options.nodes }, (_, i) => `node-${i + 1}`);
  const nats = options.natsUrl === undefined ? await NatsServerProcess.start() : undefined;
  const natsUrl = options.natsUrl ?? nats?.url ?? '';
  let exporter: ExporterChild | undefined;
  let publisher: ChildProcess | undefined;
  try {
    exporter = await ExporterChild.start(options.exporterBin, [
      `--nats.url=${natsUrl}`,
      `--nats.subject-prefix=${prefix}`,
      '--store.url=sqlite://./flaps.sqlite',
      `--flap.flush-interval=${options.flushInterval}`,
      ...(options.mode === 'jetstream' ? [`--nats.stream=LOAD_${id}`, '--nats.create-stream'] : []),
    ]);
    const url = exporter.url;
    log(`load: exporter ready at ${url}, NATS ${natsUrl}, subjects ${prefix}.<node>.*`);
    const exporterUsage = new UsageSampler(exporter.pid);
    exporterUsage.start();
    const natsUsage = nats === undefined ? undefined : new UsageSampler(nats.child.pid ?? 0);
    natsUsage?.start();

    publisher = fork(new URL('./publisher.ts', import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const publisherUsage = new UsageSampler(publisher.pid ?? 0);
    const progress: { published: number; at: number }[] = [];
    const done = new Promise<Done>((resolve, reject) => {
      publisher?.on('message', (message: FromPublisher) => {
        if (message.kind === 'progress')
          progress.push({ published: message.published, at: message.at });
        else if (message.kind === 'done') resolve(message);
        else if (message.kind === 'error') reject(new Error(`publisher: ${message.message}`));
      });
      publisher?.once('exit', (code) => {
        reject(new Error(`the publisher exited (${code}) before it was done`));
      });
    });
    done.catch(() => undefined); // awaited below; this only keeps an early failure from being unhandled
    const ready = new Promise<void>((resolve) => {
      publisher?.on('message', (message: FromPublisher) => {
        if (message.kind === 'ready') resolve();
      });
    });
    const config: ToPublisher = {
      kind: 'config',
      natsUrl,
      prefix,
      mode: options.mode,
      rate: options.rate,
      durationMs: options.durationMs,
      nodes,
      peers: options.peers,
      channels: options.channels,
      historyMs: options.historyMs,
      seed: options.seed,
    };
    publisher.send(config);
    await Promise.race([ready, done, timeout(60_000, 'the publisher to be ready')]);

    // Channel points seen in pages: what the one-channel query asks for.
    const pool: { node: string; channelPoint: string }[] = [];
    let page = 0;
    const pageQuery = new PacedPoller('page', options.pageQueryRate, async () => {
      const node = nodes[page++ % nodes.length];
      const answer = await graphql(url, PAGE_QUERY, { node, first: 100 });
      const channels = (
        answer.data as { channels?: { nodes?: { channelPoint: string }[] } } | undefined
      )?.channels?.nodes;
      if (node !== undefined && channels !== undefined && channels.length > 0) {
        for (const c of channels.slice(0, 10)) pool.push({ node, channelPoint: c.channelPoint });
        pool.splice(0, Math.max(0, pool.length - 1_000));
      }
      return answer;
    });
    let pick = 0;
    const channelQuery = new PacedPoller('channel', options.channelQueryRate, async () => {
      if (pool.length === 0) return undefined;
      const target = pool[(pick = (pick * 7 + 13) % pool.length)];
      return graphql(url, CHANNEL_QUERY, { ...target });
    });
    const samples: ScrapeSample[] = [];
    const scraper = new PacedPoller('scrape', 1000 / options.scrapeIntervalMs, async () => {
      const sample = await scrape(url);
      samples.push(sample);
      return { ms: sample.ms, ok: true };
    });

    publisherUsage.start();
    publisher.send({ kind: 'start' } satisfies ToPublisher);
    pageQuery.start();
    channelQuery.start();
    scraper.start();
    log(
      `load: publishing ${options.rate} msgs/s for ${options.durationMs / 1000} s (${options.mode} NATS), ` +
        `polling GraphQL and /metrics`,
    );
    const result = await Promise.race([
      done,
      timeout(options.durationMs + 120_000, 'the publisher'),
    ]);
    await Promise.all([pageQuery.stop(), channelQuery.stop()]);
    log(
      `load: published ${result.published} in ${((result.endedAt - result.startedAt) / 1000).toFixed(1)} s; ` +
        'waiting for the exporter to handle them',
    );

    // Scrapes go on until everything published is handled (or the drain time runs out).
    const drainDeadline = Date.now() + options.drainTimeoutMs;
    const handled = (s: ScrapeSample | undefined): boolean =>
      s !== undefined && s.applied + s.rejected >= result.published;
    while (!handled(samples.at(-1)) && Date.now() < drainDeadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await scraper.stop();
    const final = await scrape(url);
    samples.push(final);
    exporterUsage.stop();
    natsUsage?.stop();
    publisherUsage.stop();

    const firstHandled = samples.find((s) => handled(s));
    let maxBacklog = 0;
    for (const s of samples) {
      // What had been published when the scrape began: a lower bound of the backlog then.
      const published = [...progress].reverse().find((p) => p.at <= s.t)?.published ?? 0;
      maxBacklog = Math.max(maxBacklog, published - s.applied - s.rejected);
    }
    const exitCode = await exporter.stop();
    exporter = undefined;
    const window = (sampler: UsageSampler): ProcessResult => ({
      firstRss: sampler.firstRss,
      maxRss: sampler.maxRss,
      lastRss: sampler.lastRss,
      cores: sampler.coresBetween(result.startedAt, result.endedAt),
    });
    return {
      options,
      startedAt,
      publisher: result,
      final,
      handledAllAfterMs: firstHandled === undefined ? undefined : firstHandled.t - result.startedAt,
      maxBacklog,
      channelQuery: pollerResult(channelQuery),
      pageQuery: pollerResult(pageQuery),
      scrapes: summarize(samples.map((s) => s.ms)),
      scrapeFailures: scraper.failures,
      maxScrapeBytes: Math.max(...samples.map((s) => s.bytes)),
      exporter: { ...window(exporterUsage), exitCode },
      publisherProcess: window(publisherUsage),
      natsServer: natsUsage === undefined ? undefined : window(natsUsage),
    };
  } finally {
    if (publisher !== undefined && publisher.exitCode === null) publisher.kill('SIGKILL');
    await exporter?.stop();
    await nats?.stop();
    closeConnections();
  }
}

function pollerResult(poller: PacedPoller): PollerResult {
  return { latency: summarize(poller.latencies), failures: poller.failures, codes: poller.codes };
}

function timeout(ms: number, what: string): Promise<never> {
  const promise = new Promise<never>((_, reject) => {
    setTimeout(() => {
      reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`));
    }, ms).unref();
  });
  // Raced, not awaited alone: once the race is decided nobody listens to it any more.
  promise.catch(() => undefined);
  return promise;
}

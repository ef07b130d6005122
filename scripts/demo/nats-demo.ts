import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type ConnectionOptions } from 'nats';
import { systemScheduler, type Clock } from '../../src/clock.js';
import { errorMessage } from '../../src/errors.js';
import { DemoSimulation } from './simulation.js';

/** Everything the demo is told: flags and environment, parsed. */
export interface DemoSettings {
  readonly natsUrl: string;
  readonly subjectPrefix: string;
  readonly natsUser?: string;
  readonly natsPassword?: string;
  readonly natsToken?: string;
  readonly natsCreds?: string;
  readonly nodes: readonly string[];
  readonly peers: number;
  readonly channels: number;
  /** Simulated milliseconds per real millisecond while catching up with the real clock. */
  readonly speed: number;
  /** How far in the past the simulated clock starts. */
  readonly historyMs: number;
  /** Stop after this long (real time); runs until signalled when undefined. */
  readonly durationMs?: number;
  readonly seed: number;
  /** How often the simulation is advanced and published (default 100 ms). */
  readonly tickMs?: number;
}

export interface RunningDemo {
  readonly simulation: DemoSimulation;
  /** Messages published so far. */
  readonly published: number;
  /** Resolves once the demo has stopped (stop(), or its duration ran out). */
  readonly done: Promise<void>;
  /** Stops publishing and answering, drains the connection. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The demo's shell: connects to NATS, publishes the simulation's messages as
 * its clock advances and answers the RPC subjects from its current state.
 *
 * The simulated clock starts `historyMs` in the past and runs at `speed` until
 * it reaches the real clock, then follows it: event times (the payloads'
 * `timestamp`) are never ahead of now, so the exporter never sees them as
 * future, and the history it builds is consistent.
 */
export async function startDemo(
  settings: DemoSettings,
  log: (line: string) => void = (line) => {
    console.log(line);
  },
  clock: Clock = systemScheduler,
): Promise<RunningDemo> {
  const nc = await connect(connectionOptions(settings));
  const realStart = clock.now();
  const simStart = Math.floor(realStart - settings.historyMs);
  const simulation = new DemoSimulation({
    nodes: settings.nodes,
    seed: settings.seed,
    start: simStart,
    peers: settings.peers,
    channels: settings.channels,
  });

  const answer = (subject: string, reply: () => string): void => {
    nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err !== null) return;
        try {
          msg.respond(reply());
        } catch (respondErr) {
          // e.g. a reply over the server's max_payload: say so, keep publishing.
          log(`demo: cannot answer ${subject}: ${errorMessage(respondErr)}`);
        }
      },
    });
  };
  for (const node of simulation.nodes) {
    const base = `${settings.subjectPrefix}.${node.node}.rpc`;
    answer(`${base}.list_channels`, () => node.listChannelsReply());
    answer(`${base}.list_peers`, () => node.listPeersReply());
  }

  let published = 0;
  let caughtUp = false;
  const tick = (): void => {
    const now = clock.now();
    const target = Math.min(now, simStart + (now - realStart) * settings.speed);
    for (const message of simulation.messagesUntil(target)) {
      nc.publish(`${settings.subjectPrefix}.${message.node}.${message.subject}`, message.payload);
      published++;
    }
    if (!caughtUp && target >= now) {
      caughtUp = true;
      log(
        `demo: simulated clock caught up with now after ${published} messages; real time from here`,
      );
    }
  };
  const timer = setInterval(tick, settings.tickMs ?? 100);
  tick();

  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  let durationTimer: NodeJS.Timeout | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      clearInterval(timer);
      clearTimeout(durationTimer);
      try {
        // Drain answers the requests already received and flushes what is buffered, then closes.
        if (!nc.isClosed()) await nc.drain();
      } catch (err) {
        log(`demo: closing the NATS connection: ${errorMessage(err)}`);
      } finally {
        resolveDone();
      }
    })();
    return stopping;
  };
  // A connection closed for good (say, credentials refused on reconnect) ends the demo.
  void nc.closed().then(stop);
  if (settings.durationMs !== undefined) {
    durationTimer = setTimeout(() => void stop(), settings.durationMs);
  }

  return {
    simulation,
    get published() {
      return published;
    },
    done,
    stop,
  };
}

/** The line the demo prints at start: what it publishes, where, and how its clock runs. */
export function describeDemo(settings: DemoSettings): string {
  const p = settings.subjectPrefix;
  const node = settings.nodes.length === 1 ? (settings.nodes[0] ?? '') : '<node>';
  const catchUpMs = settings.speed > 1 ? settings.historyMs / (settings.speed - 1) : Infinity;
  const lines = [
    `demo: ${settings.nodes.length} simulated lnd node(s) (${settings.nodes.join(', ')}), ` +
      `${settings.peers} peers and ~${settings.channels} channels each, on ${settings.natsUrl}`,
    `  publishing ${p}.${node}.channel_events and ${p}.${node}.peer_events, ` +
      `answering ${p}.${node}.rpc.list_channels and ${p}.${node}.rpc.list_peers`,
    `  simulated clock starts ${formatDuration(settings.historyMs)} ago at ${settings.speed}x` +
      (Number.isFinite(catchUpMs)
        ? `, catches up with now in ~${formatDuration(catchUpMs)}`
        : ', and stays behind now') +
      ` (seed ${settings.seed}); Ctrl-C stops`,
  ];
  return lines.join('\n');
}

function connectionOptions(settings: DemoSettings): ConnectionOptions {
  const options: ConnectionOptions = {
    servers: settings.natsUrl,
    name: 'chanfitness-demo',
    // Keep trying through a NATS restart: a demo should outlive it.
    maxReconnectAttempts: -1,
  };
  if (settings.natsUser !== undefined) options.user = settings.natsUser;
  if (settings.natsPassword !== undefined) options.pass = settings.natsPassword;
  if (settings.natsToken !== undefined) options.token = settings.natsToken;
  if (settings.natsCreds !== undefined) {
    options.authenticator = credsAuthenticator(readFileSync(settings.natsCreds));
  }
  return options;
}

function formatDuration(ms: number): string {
  if (ms >= 3_600_000) return `${+(ms / 3_600_000).toFixed(1)}h`;
  if (ms >= 60_000) return `${+(ms / 60_000).toFixed(1)}m`;
  return `${+(ms / 1000).toFixed(1)}s`;
}

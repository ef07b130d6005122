import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  limitMs: number,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

/** Stops a child: the signal, then SIGKILL after the limit; resolves with its exit code. */
async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals,
  limitMs: number,
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const [code] = await exited;
  clearTimeout(timer);
  return code;
}

/** A private nats-server on a free loopback port (JetStream with its own store dir). */
export class NatsServerProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    private readonly storeDir: string,
  ) {}

  static async start(): Promise<NatsServerProcess> {
    const port = await freePort();
    const storeDir = mkdtempSync(join(tmpdir(), 'chanfitness-load-nats-'));
    const child = spawn(
      'nats-server',
      ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir],
      {
        stdio: 'ignore',
      },
    );
    const server = new NatsServerProcess(child, port, storeDir);
    await waitFor(() => accepts(port), `nats-server on ${port}`, 10_000);
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    await stopChild(this.child, 'SIGTERM', 5_000);
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** `nats-server --version`, or undefined when it cannot be run. */
export function natsServerVersion(): string | undefined {
  try {
    return execFileSync('nats-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** The built exporter as a child process on a free loopback port, quiet (warnings and errors). */
export class ExporterChild {
  private output = '';

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    private readonly cwd: string,
  ) {
    const keep = (chunk: Buffer): void => {
      // The last few kB say why it failed, if it does.
      this.output = (this.output + chunk.toString()).slice(-8_192);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static async start(bin: string, args: readonly string[]): Promise<ExporterChild> {
    const port = await freePort();
    const cwd = mkdtempSync(join(tmpdir(), 'chanfitness-load-exporter-'));
    const child = spawn(
      process.execPath,
      [
        bin,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.format=json',
        '--log.level=warn',
        ...args,
      ],
      {
        cwd,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exporter = new ExporterChild(child, `http://127.0.0.1:${port}`, cwd);
    try {
      await waitFor(
        async () => {
          if (child.exitCode !== null)
            throw new Error(`the exporter exited (${child.exitCode}):\n${exporter.output}`);
          try {
            return (await fetch(`${exporter.url}/readyz`)).status === 200;
          } catch {
            return false;
          }
        },
        'the exporter to be ready',
        30_000,
      );
    } catch (err) {
      await exporter.stop();
      throw err;
    }
    return exporter;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get lastOutput(): string {
    return this.output;
  }

  /** SIGTERM (orderly stop: final flush); resolves with the exit code. */
  async stop(): Promise<number | null> {
    const code = await stopChild(this.child, 'SIGTERM', 15_000);
    rmSync(this.cwd, { recursive: true, force: true });
    return code;
  }
}

const CLOCK_TICKS = clockTicks();

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** CPU seconds (user + system) and resident memory of a process, from /proc. */
export function processUsage(pid: number): { cpuSeconds: number; rssBytes: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuSeconds: (utime + stime) / CLOCK_TICKS, rssBytes: rssKb * 1024 };
  } catch {
    return undefined;
  }
}

/** Samples a process's CPU and memory every second. */
export class UsageSampler {
  readonly samples: { t: number; cpuSeconds: number; rssBytes: number }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly pid: number) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => {
      this.sample();
    }, 1_000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  /** CPU used between two times, in cores (1 = one core busy all the time). */
  coresBetween(from: number, to: number): number | undefined {
    const a = this.nearest(from);
    const b = this.nearest(to);
    if (a === undefined || b === undefined || b.t <= a.t) return undefined;
    return (b.cpuSeconds - a.cpuSeconds) / ((b.t - a.t) / 1000);
  }

  get maxRss(): number {
    return Math.max(0, ...this.samples.map((s) => s.rssBytes));
  }

  get firstRss(): number {
    return this.samples[0]?.rssBytes ?? 0;
  }

  get lastRss(): number {
    return this.samples.at(-1)?.rssBytes ?? 0;
  }

  private nearest(t: number): { t: number; cpuSeconds: number; rssBytes: number } | undefined {
    let best: { t: number; cpuSeconds: number; rssBytes: number } | undefined;
    for (const s of this.samples) {
      if (best === undefined || Math.abs(s.t - t) < Math.abs(best.t - t)) best = s;
    }
    return best;
  }

  private sample(): void {
    const usage = processUsage(this.pid);
    if (usage !== undefined) this.samples.push({ t: Date.now(), ...usage });
  }
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

const LOG_TAIL_CHARS = 8_192;
const START_LIMIT_MS = 10_000;

export interface PrivateRedisServerOptions {
  /** `--requirepass`: clients must authenticate with it. */
  readonly password?: string;
}

/**
 * A private redis-server on a loopback port, without persistence (each start
 * is empty), for tests that stop, freeze or restart the server, or need one
 * with a password; the shared one on 6379 is never touched.
 */
export class PrivateRedisServer {
  private child: ChildProcess | undefined;
  /** Its working directory (`--dir`), removed by dispose. */
  readonly dir = mkdtempSync(join(tmpdir(), 'chanfitness-redis-'));
  private readonly args: string[];

  private constructor(
    readonly port: number,
    options: PrivateRedisServerOptions,
  ) {
    this.args = [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--dir',
      this.dir,
      ...(options.password === undefined ? [] : ['--requirepass', options.password]),
    ];
  }

  static async start(options: PrivateRedisServerOptions = {}): Promise<PrivateRedisServer> {
    const server = new PrivateRedisServer(await freePort(), options);
    try {
      await server.restart();
    } catch (err) {
      await server.dispose();
      throw err;
    }
    return server;
  }

  /** The URL of the server, without the password. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again, after stop) on the same port, empty; resolves once it is ready. */
  async restart(): Promise<void> {
    const child = spawn('redis-server', this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // The tail of its log, to say why a server did not start.
    let log = '';
    const keep = (chunk: Buffer): void => {
      log = (log + chunk.toString()).slice(-LOG_TAIL_CHARS);
    };
    child.stderr.on('data', keep);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`redis-server on ${this.port} not ready within ${START_LIMIT_MS} ms:\n${log}`),
        );
      }, START_LIMIT_MS);
      const onExit = (code: number | null): void => {
        clearTimeout(timer);
        reject(new Error(`redis-server on ${this.port} exited (${String(code)}):\n${log}`));
      };
      child.once('exit', onExit);
      let ready = false;
      child.stdout.on('data', (chunk: Buffer) => {
        keep(chunk);
        // Listening and done loading (nothing to load): commands are answered from now on.
        if (!ready && log.includes('Ready to accept connections')) {
          ready = true;
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve();
        }
      });
    });
  }

  /** Kills the server (SIGKILL: as abrupt as a crash) and waits for it to be gone. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => {
        resolve();
      });
      child.kill('SIGKILL');
    });
  }

  /** Freezes it (SIGSTOP): connections stay open, nothing is answered (a hung backend). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

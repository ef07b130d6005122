import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './free-port.js';

const LOG_TAIL_CHARS = 8_192;

export interface PrivateNatsServerOptions {
  /**
   * Text of a nats-server configuration file (authorization, tls, operator, …),
   * written to the server's temp dir and passed with `-c`. The command-line
   * options (loopback address, port, JetStream, store dir) win over it.
   */
  readonly config?: string;
  /** Enable JetStream (`-js`); true by default. */
  readonly jetstream?: boolean;
}

/**
 * A private nats-server (with JetStream) on a loopback port, for tests that stop
 * and restart the server, or need one with authentication or TLS; the shared
 * one on 4222 is never touched.
 */
export class PrivateNatsServer {
  private child: ChildProcess | undefined;
  readonly storeDir = mkdtempSync(join(tmpdir(), 'chanfitness-nats-'));
  private readonly args: string[];

  private constructor(
    readonly port: number,
    extraArgs: string[],
    options: PrivateNatsServerOptions,
  ) {
    const configArgs: string[] = [];
    if (options.config !== undefined) {
      const configFile = join(this.storeDir, 'nats-server.conf');
      writeFileSync(configFile, options.config);
      configArgs.push('-c', configFile);
    }
    const jetstreamArgs = options.jetstream === false ? [] : ['-js', '-sd', this.storeDir];
    this.args = ['-a', '127.0.0.1', '-p', String(port), ...jetstreamArgs, ...configArgs];
    this.args.push(...extraArgs);
  }

  static async start(
    extraArgs: string[] = [],
    options: PrivateNatsServerOptions = {},
  ): Promise<PrivateNatsServer> {
    return PrivateNatsServer.startOn(await freePort(), extraArgs, options);
  }

  static async startOn(
    port: number,
    extraArgs: string[] = [],
    options: PrivateNatsServerOptions = {},
  ): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(port, extraArgs, options);
    await server.restart();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts the server again on the same port and store (after stop). */
  async restart(): Promise<void> {
    const child = spawn('nats-server', this.args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    // The tail of its log (stderr), to say why a server did not start (a bad config).
    let log = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      log = (log + chunk).slice(-LOG_TAIL_CHARS);
    });
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code) => {
        reject(new Error(`nats-server exited (${String(code)}) before listening:\n${log}`));
      });
    });
    exited.catch(() => undefined);
    await Promise.race([waitForPort(this.port), exited]);
  }

  /** Kills the server (SIGKILL: as abrupt as a crash) and waits for it to be gone. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => {
        resolve();
      });
      child.kill('SIGKILL');
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

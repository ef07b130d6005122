import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './free-port.js';

/**
 * A private nats-server (with JetStream) on a loopback port, for tests that stop
 * and restart the server; the shared one on 4222 is never touched.
 */
export class PrivateNatsServer {
  private child: ChildProcess | undefined;
  readonly storeDir = mkdtempSync(join(tmpdir(), 'chanfitness-nats-'));

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
  ) {}

  static async start(extraArgs: string[] = []): Promise<PrivateNatsServer> {
    return PrivateNatsServer.startOn(await freePort(), extraArgs);
  }

  static async startOn(port: number, extraArgs: string[] = []): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(port, extraArgs);
    await server.restart();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts the server again on the same port and store (after stop). */
  async restart(): Promise<void> {
    this.child = spawn(
      'nats-server',
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir, ...this.extraArgs],
      { stdio: 'ignore' },
    );
    await waitForPort(this.port);
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

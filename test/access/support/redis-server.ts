import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from '../../support/free-port.js';

/** A throwaway redis-server on loopback that requires a password; the shared one is never used. */
export class PasswordRedisServer {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(password: string): Promise<PasswordRedisServer> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'chanfitness-redis-'));
    const child = spawn(
      'redis-server',
      [
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--requirepass',
        password,
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
    const server = new PasswordRedisServer(port, child, dir);
    try {
      await waitForPort(port);
    } catch (err) {
      await server.dispose();
      throw err;
    }
    return server;
  }

  async dispose(): Promise<void> {
    const { child } = this;
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => {
          resolve();
        });
        child.kill('SIGKILL');
      });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

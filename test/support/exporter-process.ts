import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The built bin (`npm test` builds first; run `npm run build` before running one file). */
export const EXPORTER_BIN = resolve(import.meta.dirname, '../../dist/main.js');

export interface ExporterOptions {
  /** The program run with node; the repository's built bin by default (an installed one for package tests). */
  readonly bin?: string;
  /** Flags after the defaults below (later flags win). */
  readonly args?: readonly string[];
  /** Extra environment; the test's own environment is not passed on except PATH and HOME. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory; a fresh temp dir by default (removed by dispose). */
  readonly cwd?: string;
  /** How long to wait for the HTTP server to listen. */
  readonly startTimeoutMs?: number;
  /** Do not wait for the listening line (for processes expected to exit at once). */
  readonly noWait?: boolean;
}

/**
 * The real service as a child process: `node dist/main.js` with JSON logs,
 * listening on a free loopback port (read back from its log).
 */
export class ExporterProcess {
  private readonly stdoutLines: string[] = [];
  private stderrText = '';
  private partial = '';
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private ownCwd: string | undefined;
  url = '';

  private constructor(
    readonly child: ChildProcess,
    readonly cwd: string,
    ownCwd: string | undefined,
  ) {
    this.ownCwd = ownCwd;
    this.exit = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        resolveExit({ code, signal });
      });
    });
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      const text = this.partial + chunk;
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      this.stdoutLines.push(...lines.filter((l) => l.trim() !== ''));
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrText += chunk;
    });
  }

  static async start(options: ExporterOptions = {}): Promise<ExporterProcess> {
    const bin = options.bin ?? EXPORTER_BIN;
    if (!existsSync(bin)) {
      throw new Error(`${bin} is missing: run \`npm run build\` first`);
    }
    const ownCwd =
      options.cwd === undefined ? mkdtempSync(join(tmpdir(), 'chanfitness-e2e-')) : undefined;
    const cwd = options.cwd ?? ownCwd ?? '.';
    const child = spawn(
      process.execPath,
      [
        '--enable-source-maps',
        bin,
        '--web.listen-address=127.0.0.1:0',
        '--log.format=json',
        '--log.level=debug',
        ...(options.args ?? []),
      ],
      {
        cwd,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exporter = new ExporterProcess(child, cwd, ownCwd);
    if (options.noWait !== true) {
      try {
        await exporter.waitForListening(options.startTimeoutMs ?? 15_000);
      } catch (err) {
        // A process that never listened is still running: the caller has no handle on it.
        await exporter.dispose();
        throw err;
      }
    }
    return exporter;
  }

  /** Every JSON log line so far, parsed (lines that are not JSON are skipped). */
  logs(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const line of this.stdoutLines) {
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // pino-pretty or a stray line: not ours to parse.
      }
    }
    return out;
  }

  /** Everything written so far, stdout and stderr. */
  output(): string {
    return `${this.stdoutLines.join('\n')}\n${this.partial}${this.stderrText}`;
  }

  get stderr(): string {
    return this.stderrText;
  }

  /** Resolves with the first log line that matches, polling. */
  async waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs = 15_000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logs().find(match);
      if (line !== undefined) return line;
      if (this.child.exitCode !== null) {
        throw new Error(
          `exporter exited (${this.child.exitCode}) before the log line:\n${this.output()}`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for a log line:\n${this.output()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Sends a signal and resolves with how the process ended. */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
    timeoutMs = 15_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.waitForExit(timeoutMs);
  }

  async waitForExit(
    timeoutMs = 15_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`exporter did not exit within ${timeoutMs} ms:\n${this.output()}`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.exit, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process if still running and removes its own working directory. */
  async dispose(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exit;
    }
    if (this.ownCwd !== undefined) rmSync(this.ownCwd, { recursive: true, force: true });
  }

  private async waitForListening(timeoutMs: number): Promise<void> {
    const line = await this.waitForLog((l) => l.msg === 'HTTP server listening', timeoutMs);
    this.url = String(line.url);
  }
}

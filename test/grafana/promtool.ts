import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ENSURE_PROMETHEUS_SCRIPT = fileURLToPath(
  new URL('./ensure-prometheus.sh', import.meta.url),
);

/** Installs Debian's prometheus package (prometheus and promtool) when promtool is missing. */
export async function ensurePrometheus(): Promise<void> {
  await run('bash', [ENSURE_PROMETHEUS_SCRIPT], { maxBuffer: 16 * 1024 * 1024 });
}

export interface CommandResult {
  code: number;
  output: string;
}

/** Runs promtool; a non-zero exit is a result, not an exception, so tests can show the output. */
export async function promtool(args: string[]): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await run('promtool', args, { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

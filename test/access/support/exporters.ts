import { randomBytes } from 'node:crypto';
import { ExporterProcess, type ExporterOptions } from '../../support/exporter-process.js';

/**
 * How long a boot may take: the exporter needs a few seconds of CPU to load,
 * and a loaded CI machine (or several exporters booting at once) stretches that.
 */
export const BOOT_TIMEOUT_MS = 90_000;

/** A mocha timeout for hooks that boot exporters. */
export const BOOT_HOOK_TIMEOUT_MS = BOOT_TIMEOUT_MS + 30_000;

/** A subject prefix of its own, so that nothing else published reaches this exporter. */
export function privatePrefix(): string {
  return `acc${randomBytes(4).toString('hex')}`;
}

/**
 * Waits for things started together. When one fails, the others are disposed
 * before the error is thrown: no process outlives the test.
 */
export async function startAll<T extends { dispose(): Promise<void> }>(
  starts: readonly Promise<T>[],
): Promise<T[]> {
  const results = await Promise.allSettled(starts);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed === undefined) {
    return results.map((r) => (r as PromiseFulfilledResult<T>).value);
  }
  const fulfilled = results.filter((r) => r.status === 'fulfilled');
  await Promise.all(fulfilled.map((r) => r.value.dispose()));
  throw failed.reason;
}

/** Boots the exporters together (their boots overlap); see startAll. */
export function startExporters(options: readonly ExporterOptions[]): Promise<ExporterProcess[]> {
  return startAll(options.map(startExporter));
}

/**
 * ExporterProcess.start, except that a process that never listens is killed
 * (start() leaves it running when it times out).
 */
async function startExporter(options: ExporterOptions): Promise<ExporterProcess> {
  const exporter = await ExporterProcess.start({ ...options, noWait: true });
  try {
    const line = await exporter.waitForLog(
      (l) => l.msg === 'HTTP server listening',
      options.startTimeoutMs ?? BOOT_TIMEOUT_MS,
    );
    exporter.url = String(line.url);
    return exporter;
  } catch (err) {
    await exporter.dispose();
    throw err;
  }
}

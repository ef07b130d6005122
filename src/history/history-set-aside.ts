import { errorMessage } from '../errors.js';
import type { NodeHistories } from './history-bookkeeping.js';
import { HistoryCorruptError, HistoryFormatError, historyKeys } from './history-format.js';
import type { HistoryKeeperOptions } from './history-keeper-options.js';

/**
 * Persisted state this process cannot use (another format, or it does not
 * decode): counted and logged where it is found, and copied aside before
 * this process's first write replaces it.
 */
export class UnusableHistory {
  /**
   * Persisted values this process could not use, copied aside (key -> where)
   * before its first write replaces them: nothing it has not restored is lost.
   */
  private readonly preserve = new Map<string, string>();
  /** The node index could not be used: any node's manifest may be one this process did not read. */
  indexRejected = false;

  constructor(
    private readonly options: HistoryKeeperOptions,
    private readonly histories: NodeHistories,
  ) {}

  /** True when err is persisted state to ignore (counted and logged); false for a store failure. */
  rejected(err: unknown, what: string): boolean {
    const reason =
      err instanceof HistoryFormatError || err instanceof HistoryCorruptError
        ? err.code
        : undefined;
    if (reason === undefined) return false;
    this.options.stats.rejected[reason] += 1;
    this.options.logger.error(
      { reason, err: errorMessage(err) },
      `${what} cannot be used (${reason === 'format' ? 'another format' : 'it does not decode'}): ignored, starting without it`,
    );
    return true;
  }

  /** The node index could not be used: it is copied aside before this process writes its own. */
  setAsideIndex(): void {
    this.preserve.set(historyKeys.nodes, `${historyKeys.nodes}:unused:${this.options.clock.now()}`);
    // The manifests of nodes it did not name are kept aside too before the first write.
    this.indexRejected = true;
  }

  /**
   * A node whose state could not be used: its manifest is copied aside before
   * this process writes its own, under generations above any it may name.
   */
  setAside(node: string): void {
    const at = this.options.clock.now();
    this.preserve.set(historyKeys.manifest(node), `${historyKeys.manifest(node)}:unused:${at}`);
    const history = this.histories.of(node);
    history.nextGen = Math.max(history.nextGen, Math.floor(at));
  }

  /** Whether this value is still to be copied aside before it is replaced. */
  pending(key: string): boolean {
    return this.preserve.has(key);
  }

  /** Copies a value this process did not restore aside, once, before replacing it. */
  async keepAside(key: string): Promise<void> {
    const aside = this.preserve.get(key);
    if (aside === undefined) return;
    const value = await this.options.kv.get(key).catch(() => undefined);
    if (value !== undefined) await this.options.kv.setMany([{ key: aside, value }]);
    this.preserve.delete(key);
    this.options.logger.warn({ key, keptAs: aside }, 'unusable history kept aside');
  }
}

import { Counter, Gauge, type Registry } from 'prom-client';
import { PERSISTENCE_FAMILIES } from './metric-families.js';

/** What the flush families read of the flap count flushes (FlushStats). */
export interface FlushCounts {
  readonly success: number;
  readonly error: number;
  /** Time of the last successful flush (ms since epoch); undefined before one. */
  readonly lastSuccessAt: number | undefined;
}

type GaugeSnapshot = Awaited<ReturnType<Gauge['get']>>;

/**
 * The time of the last successful flush. prom-client reports 0 for a gauge
 * without labels that was never set; this one has no sample until the first
 * success, so that "time() - last flush" alerts cannot mistake start-up for a
 * flush 50 years ago.
 */
class LastFlushGauge extends Gauge {
  constructor(
    registry: Registry,
    private readonly flush: FlushCounts,
  ) {
    const family = PERSISTENCE_FAMILIES.lastFlapFlushTimestampSeconds;
    super({ name: family.name, help: family.help, registers: [registry] });
  }

  override async get(): Promise<GaugeSnapshot> {
    const metric = await super.get();
    const at = this.flush.lastSuccessAt;
    return { ...metric, values: at === undefined ? [] : [{ value: at / 1000, labels: {} }] };
  }
}

/** What the store collector reads of the store's state. */
export interface StoreState {
  /** False from a failed operation until one succeeds. */
  readonly up: boolean;
}

/**
 * Flap count flushes (successes, failures and the time of the last success)
 * and whether the store answers.
 */
export function registerPersistenceCollector(
  registry: Registry,
  flush: FlushCounts,
  store: StoreState | undefined,
): void {
  if (store !== undefined) {
    const up = PERSISTENCE_FAMILIES.storeUp;
    new Gauge({
      name: up.name,
      help: up.help,
      registers: [registry],
      collect() {
        this.set(store.up ? 1 : 0);
      },
    });
  }
  const family = PERSISTENCE_FAMILIES.flapFlushesTotal;
  new Counter({
    name: family.name,
    help: family.help,
    labelNames: family.labels,
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ result: 'success' }, flush.success);
      this.inc({ result: 'error' }, flush.error);
    },
  });
  new LastFlushGauge(registry, flush);
}

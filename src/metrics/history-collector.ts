import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import { HISTORY_FAMILIES, type MetricFamily } from './metric-families.js';

/**
 * What the history families read of the keeper's figures (HistoryStats).
 * Times are milliseconds since the Unix epoch, durations milliseconds.
 */
export interface HistoryFigures {
  /** History is on (--history); when false the families have no sample. */
  readonly enabled: boolean;
  readonly writeSuccess: number;
  readonly writeError: number;
  readonly lastWriteBytes: number | undefined;
  readonly lastWriteDurationMs: number | undefined;
  readonly lastWriteLongestStepMs: number | undefined;
  /** End of the last successful snapshot write; undefined before one. */
  readonly lastSuccessAt: number | undefined;
  readonly restoreDurationMs: number | undefined;
  readonly restored: boolean;
  readonly restoreFailures: number;
  /** reason -> persisted nodes ignored at restore; every reason present from the start. */
  readonly rejected: Readonly<Record<string, number>>;
  readonly pendingEvents: number;
  readonly pendingOverflow: number;
  readonly compactedEvents: number;
}

type Labels = Record<string, string>;

/** One sample of a family, computed at scrape time. */
interface ComputedSample {
  readonly value: number;
  readonly labels?: Labels;
}

/** The samples of a family at one scrape; none while history is off. */
type Samples = () => readonly ComputedSample[];

type GaugeSnapshot = Awaited<ReturnType<Gauge['get']>>;
type CounterSnapshot = Awaited<ReturnType<Counter['get']>>;

const toValues = (samples: readonly ComputedSample[]) =>
  samples.map(({ value, labels }) => ({ value, labels: labels ?? {} }));

/**
 * A gauge whose samples are computed at each scrape. prom-client reports 0 for a
 * gauge without labels that was never set; these report exactly the samples given,
 * none at all when there is nothing to say (history off, no write yet), so that an
 * alert on "time() - last snapshot" cannot mistake start-up for a snapshot in 1970.
 */
class ComputedGauge extends Gauge {
  constructor(
    registry: Registry,
    family: MetricFamily,
    private readonly samples: Samples,
  ) {
    super({
      name: family.name,
      help: family.help,
      labelNames: family.labels,
      registers: [registry],
    });
  }

  override async get(): Promise<GaugeSnapshot> {
    const metric = await super.get();
    return { ...metric, values: toValues(this.samples()) };
  }
}

/** A counter whose samples are computed at each scrape (none while history is off). */
class ComputedCounter extends Counter {
  constructor(
    registry: Registry,
    family: MetricFamily,
    private readonly samples: Samples,
  ) {
    super({
      name: family.name,
      help: family.help,
      labelNames: family.labels,
      registers: [registry],
    });
  }

  override async get(): Promise<CounterSnapshot> {
    const metric = await super.get();
    return { ...metric, values: toValues(this.samples()) };
  }
}

const seconds = (ms: number | undefined): readonly ComputedSample[] =>
  ms === undefined ? [] : [{ value: ms / 1000 }];

/**
 * History snapshots and their restore, read from the keeper's stats at scrape time.
 * While history is off (stats.enabled false) every family has its HELP and TYPE
 * but no sample.
 */
export function registerHistoryCollector(
  registry: Registry,
  stats: HistoryFigures,
  clock: Clock,
): void {
  const f = HISTORY_FAMILIES;
  const whenEnabled =
    (samples: Samples): Samples =>
    () =>
      stats.enabled ? samples() : [];
  const gauge = (family: MetricFamily, samples: Samples) =>
    new ComputedGauge(registry, family, whenEnabled(samples));
  const counter = (family: MetricFamily, samples: Samples) =>
    new ComputedCounter(registry, family, whenEnabled(samples));

  counter(f.snapshotWritesTotal, () => [
    { value: stats.writeSuccess, labels: { result: 'success' } },
    { value: stats.writeError, labels: { result: 'error' } },
  ]);
  gauge(f.snapshotLastWriteBytes, () =>
    stats.lastWriteBytes === undefined ? [] : [{ value: stats.lastWriteBytes }],
  );
  gauge(f.snapshotLastWriteDurationSeconds, () => seconds(stats.lastWriteDurationMs));
  gauge(f.snapshotLastWriteLongestStepSeconds, () => seconds(stats.lastWriteLongestStepMs));
  gauge(f.lastSnapshotTimestampSeconds, () => seconds(stats.lastSuccessAt));
  gauge(f.snapshotAgeSeconds, () => {
    const at = stats.lastSuccessAt;
    // Never negative, should the clock step back past the write.
    return at === undefined ? [] : [{ value: Math.max(0, clock.now() - at) / 1000 }];
  });
  gauge(f.restoreDurationSeconds, () => seconds(stats.restoreDurationMs));
  gauge(f.restored, () => [{ value: stats.restored ? 1 : 0 }]);
  counter(f.restoreFailuresTotal, () => [{ value: stats.restoreFailures }]);
  // Every reason from the start (0 until it happens), so that increase() sees the first.
  counter(f.rejectedTotal, () =>
    Object.entries(stats.rejected).map(([reason, value]) => ({ value, labels: { reason } })),
  );
  gauge(f.pendingEvents, () => [{ value: stats.pendingEvents }]);
  counter(f.pendingOverflowTotal, () => [{ value: stats.pendingOverflow }]);
  counter(f.compactedEventsTotal, () => [{ value: stats.compactedEvents }]);
}

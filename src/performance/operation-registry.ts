import type { MonitorWarnings } from './monitor-warnings.js';
import { OVERFLOW_OPERATION } from './monitor-warnings.js';
import { OperationSeries, seriesKey } from './operation-series.js';
import type { MonitorSettings } from './types.js';

// The series a monitor records into, one per operation and label set, capped at `maxMetrics`.

/**
 * @internal The monitor's series by key and by operation name. Beyond `maxMetrics` series, calls
 * are counted under {@link OVERFLOW_OPERATION}. `generation` grows at each reset, so handles
 * cached by call sites know when to resolve their series again.
 */
export class OperationRegistry {
  /** Every series, by {@link seriesKey}. */
  readonly series = new Map<string, OperationSeries>();
  /** The series of each operation name, one per label set. */
  readonly byName = new Map<string, OperationSeries[]>();
  readonly #settings: MonitorSettings;
  readonly #warnings: MonitorWarnings;
  readonly #boundsMs: readonly number[];
  #generation = 0;

  constructor(settings: MonitorSettings, warnings: MonitorWarnings) {
    this.#settings = settings;
    this.#warnings = warnings;
    this.#boundsMs = settings.prometheusBuckets.map((seconds) => seconds * 1000);
  }

  /** Incremented by {@link reset}. */
  get generation(): number {
    return this.#generation;
  }

  /** The series of `name` and `labels`, created if the cap allows, else the overflow series. */
  resolve(
    name: string,
    checkedLabels: Record<string, string>,
    thresholdMs: number | undefined,
  ): OperationSeries {
    const key = seriesKey(name, checkedLabels);
    let series = this.series.get(key);
    if (series === undefined) {
      if (this.series.size >= this.#settings.maxMetrics && name !== OVERFLOW_OPERATION) {
        this.#warnings.overflow(name, checkedLabels);
        return this.resolve(OVERFLOW_OPERATION, {}, undefined);
      }
      series = new OperationSeries(
        name,
        checkedLabels,
        thresholdMs ?? this.#settings.alertThresholdMs,
        this.#boundsMs,
        this.#settings.clock.now(),
      );
      this.series.set(key, series);
      const siblings = this.byName.get(name);
      if (siblings) siblings.push(series);
      else this.byName.set(name, [series]);
    }
    return series;
  }

  /** Forgets every series; cached handles become stale. */
  reset(): void {
    this.series.clear();
    this.byName.clear();
    this.#generation++;
  }
}

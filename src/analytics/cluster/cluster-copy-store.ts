import type {
  HistoryQuery,
  HistorySeries,
  HistoryStore,
  MetricQuery,
  MetricSeries,
  MinuteRollup,
  SeriesInfo,
} from '../history/types.js';

/**
 * Where a copy of each rollup goes besides the instance's own store: the cluster view's
 * `writeRollup`, `undefined` while there is none.
 *
 * @example
 * ```ts
 * const target: RollupCopyTarget = () => enterprise.peek('cluster');
 * ```
 */
export type RollupCopyTarget = () =>
  | { writeRollup(rollup: MinuteRollup): Promise<void> }
  | undefined;

/**
 * A {@link HistoryStore} that writes each rollup to the instance's own store and a copy to the
 * deployment's history (the cluster view); everything else is the own store's. A write resolves
 * once both have it: a recorder retries a rollup either one failed, and each counts it once.
 *
 * @example
 * ```ts
 * const store = new ClusterCopyStore(new MemoryHistoryStore(), () => cluster);
 * new HistoryRecorder({ store, operations: enterprise.performance }).start();
 * ```
 */
export class ClusterCopyStore implements HistoryStore {
  readonly #own: HistoryStore;
  readonly #target: RollupCopyTarget;

  constructor(own: HistoryStore, target: RollupCopyTarget) {
    this.#own = own;
    this.#target = target;
  }

  get name(): string {
    return this.#own.name;
  }

  get retention(): HistoryStore['retention'] {
    return this.#own.retention;
  }

  async write(rollup: MinuteRollup): Promise<void> {
    const copy = this.#target();
    await Promise.all([this.#own.write(rollup), copy?.writeRollup(rollup)]);
  }

  query(query: HistoryQuery): Promise<HistorySeries> {
    return this.#own.query(query);
  }

  queryMetric(query: MetricQuery): Promise<MetricSeries> {
    return this.#own.queryMetric(query);
  }

  series(): Promise<SeriesInfo[]> {
    return this.#own.series();
  }

  prune(): Promise<void> {
    return this.#own.prune();
  }

  close(): Promise<void> {
    return this.#own.close();
  }
}

import {
  HistoryRecorder,
  type HistoryRecorderOptions,
  type HistoryRecorderStatus,
} from './recorder.js';
import type {
  HistoryQuery,
  HistorySeries,
  HistoryStore,
  MetricQuery,
  MetricSeries,
  SeriesInfo,
} from './types.js';

/** Options of {@link MetricsHistory}: a recorder's, and whether the store is closed with it. */
export interface MetricsHistoryOptions extends HistoryRecorderOptions {
  /** Whether {@link MetricsHistory.close} also closes the store (one it opened). @defaultValue false */
  ownsStore?: boolean;
}

/**
 * A recorder and the store it writes to, as one object: what an instance builds as its `history`
 * module. Queries go to the store, so they answer for every process writing to a shared store.
 *
 * @example
 * ```ts
 * const history = new MetricsHistory({ store: new MemoryHistoryStore(), operations: enterprise.performance });
 * history.start();
 * const series = await history.query({ operation: 'GET /users', from: Date.now() - 3_600_000, to: Date.now(), step: '5m' });
 * await history.close();
 * ```
 */
export class MetricsHistory {
  /** Where the minutes are kept and read from. */
  readonly store: HistoryStore;
  /** What samples the figures and closes the minutes. */
  readonly recorder: HistoryRecorder;
  readonly #ownsStore: boolean;
  #closing: Promise<void> | undefined;

  constructor(options: MetricsHistoryOptions) {
    const { ownsStore = false, ...recorder } = options;
    this.recorder = new HistoryRecorder(recorder);
    this.store = recorder.store;
    this.#ownsStore = ownsStore;
  }

  /** Starts the recorder's timer. Idempotent. */
  start(): void {
    if (this.#closing === undefined) this.recorder.start();
  }

  /** An operation's history; a bad parameter rejects with a `HistoryQueryError` naming it. */
  query(query: HistoryQuery): Promise<HistorySeries> {
    return this.store.query(query);
  }

  /** A figure's history (`system.memory.heap_used`, `cache.hits`, `tasks.queue.waiting`...). */
  queryMetric(query: MetricQuery): Promise<MetricSeries> {
    return this.store.queryMetric(query);
  }

  /** The operations and figures the store holds. */
  series(): Promise<SeriesInfo[]> {
    return this.store.series();
  }

  /** The recorder's state and the store's name. */
  status(): HistoryRecorderStatus & { store: string } {
    return { ...this.recorder.status(), store: this.store.name };
  }

  /** Stops the recorder (writing the minute under way), then closes the store if it was opened here. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.recorder.stop();
      if (this.#ownsStore) await this.store.close().catch(() => undefined);
    })();
    return this.#closing;
  }
}

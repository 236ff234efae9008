import { describeValue, InvalidArgumentError } from '../../core/errors.js';
import {
  type Cell,
  mergeMetricCells,
  mergeOperationCells,
  metricCell,
  operationCell,
} from './memory-cells.js';
import { checkKnown, labelsMatch, planQuery, type QueryPlan } from './query-plan.js';
import { MetricSteps, OperationSteps } from './query-steps.js';
import { checkRollup } from './rollup-checks.js';
import { canonicalLabels } from './series-key.js';
import { type HistoryStoreOptions, HOUR_MS, MINUTE_MS, storeSettings } from './store-settings.js';
import type {
  HistoryQuery,
  HistorySeries,
  HistoryStore,
  MetricQuery,
  MetricSeries,
  MinuteRollup,
  SeriesInfo,
} from './types.js';

/** Options of {@link MemoryHistoryStore}. */
export interface MemoryHistoryStoreOptions extends HistoryStoreOptions {
  /**
   * The most series (an operation or figure with one label set) kept; rollups of further series
   * are dropped and counted in `droppedSeries`. @defaultValue 10000
   */
  maxSeries?: number;
}

interface Series {
  labels: Readonly<Record<string, string>>;
  /** Cells by the start of their minute or hour (see memory-cells.ts). */
  minutes: Map<number, Cell>;
  hours: Map<number, Cell>;
}

type Kind = 'operation' | 'metric';

/**
 * The {@link HistoryStore} of one process, the default: per series, a map of minutes and one of
 * hours, each dropped past its retention (a day of minutes and a week of hours unless told
 * otherwise), at most `maxSeries` series. Memory grows with the series active each minute (an idle
 * one costs nothing): one array of 4 + n numbers per series and minute, n its non-empty buckets.
 *
 * @example
 * ```ts
 * const store = new MemoryHistoryStore({ retention: { minutes: '6h', hours: '7d' } });
 * const recorder = new HistoryRecorder({ store, operations: enterprise.performance });
 * ```
 */
export class MemoryHistoryStore implements HistoryStore {
  readonly name = 'memory';
  readonly retention: { readonly minutesMs: number; readonly hoursMs: number };
  readonly #settings: ReturnType<typeof storeSettings>;
  readonly #maxSeries: number;
  readonly #operations = new Map<string, Map<string, Series>>();
  readonly #metrics = new Map<string, Map<string, Series>>();
  /** Ids of the rollups written, with their minute, to count each once. */
  readonly #written = new Map<string, number>();
  #seriesCount = 0;
  #dropped = 0;
  #prunedAt = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryHistoryStoreOptions = {}) {
    // A process's memory: a day of minutes and a week of hours unless told otherwise.
    this.#settings = storeSettings(options, { minutes: '24h', hours: '7d' });
    this.retention = { minutesMs: this.#settings.minutesMs, hoursMs: this.#settings.hoursMs };
    const maxSeries = options.maxSeries ?? 10_000;
    if (!Number.isInteger(maxSeries) || maxSeries < 1) {
      throw new InvalidArgumentError(
        `maxSeries=${describeValue(maxSeries)} is invalid: expected a positive whole number`,
        { argument: 'maxSeries', value: maxSeries, expected: 'a positive whole number' },
      );
    }
    this.#maxSeries = maxSeries;
  }

  /** Rollups of series beyond `maxSeries` that were dropped. */
  get droppedSeries(): number {
    return this.#dropped;
  }

  async write(rollup: MinuteRollup): Promise<void> {
    checkRollup(rollup);
    if (this.#written.has(rollup.id)) return;
    const now = this.#settings.clock.epochNow();
    this.#prune(now, false);
    const { minuteFloor, hourFloor } = this.#floors(now);
    const at = rollup.at;
    const hour = Math.floor(at / HOUR_MS) * HOUR_MS;
    const keepMinute = at >= minuteFloor;
    if (!keepMinute && hour < hourFloor) return;
    this.#written.set(rollup.id, at);
    for (const op of rollup.operations) {
      const series = this.#series(this.#operations, op.name, op.labels);
      if (series === undefined) continue;
      const cell = operationCell(op);
      if (keepMinute) add(series.minutes, at, cell, mergeOperationCells);
      if (hour >= hourFloor) add(series.hours, hour, cell, mergeOperationCells);
    }
    for (const metric of rollup.metrics) {
      const series = this.#series(this.#metrics, metric.name, metric.labels);
      if (series === undefined) continue;
      const cell = metricCell(metric);
      if (keepMinute) add(series.minutes, at, cell, mergeMetricCells);
      if (hour >= hourFloor) add(series.hours, hour, cell, mergeMetricCells);
    }
  }

  async query(query: HistoryQuery): Promise<HistorySeries> {
    const plan = planQuery('operation', query?.operation, query, this.#settings);
    const steps = new OperationSteps(plan);
    const matched = this.#read(this.#operations, plan, (at, cell) => steps.addCell(at, cell));
    return steps.series(matched);
  }

  async queryMetric(query: MetricQuery): Promise<MetricSeries> {
    const plan = planQuery('metric', query?.metric, query, this.#settings);
    const steps = new MetricSteps(plan);
    const matched = this.#read(this.#metrics, plan, (at, cell) =>
      steps.add(at, cell[0]!, cell[1]!, cell[2]!, cell[3]!),
    );
    return steps.series(matched);
  }

  async series(): Promise<SeriesInfo[]> {
    this.#prune(this.#settings.clock.epochNow(), true);
    const list: SeriesInfo[] = [];
    const collect = (kind: Kind, map: Map<string, Map<string, Series>>) => {
      for (const [name, sets] of map) {
        for (const series of sets.values()) list.push({ kind, name, labels: { ...series.labels } });
      }
    };
    collect('operation', this.#operations);
    collect('metric', this.#metrics);
    return list;
  }

  async prune(): Promise<void> {
    this.#prune(this.#settings.clock.epochNow(), true);
  }

  /** Nothing to release; the maps stay readable. */
  async close(): Promise<void> {}

  /** Reads every cell of the plan's series and range; returns how many label sets matched. */
  #read(
    map: Map<string, Map<string, Series>>,
    plan: QueryPlan,
    visit: (at: number, cell: Cell) => void,
  ): number {
    this.#prune(this.#settings.clock.epochNow(), false);
    const sets = map.get(plan.name);
    let matched = 0;
    for (const series of sets?.values() ?? []) {
      if (!labelsMatch(series.labels, plan.labels)) continue;
      matched++;
      const cells = plan.resolution === 'hour' ? series.hours : series.minutes;
      const span = (plan.to - plan.from) / plan.unitMs;
      if (cells.size <= span) {
        // forEach rather than for-of: no [key, value] array per cell on this hot path.
        cells.forEach((cell, at) => {
          if (at >= plan.from && at < plan.to) visit(at, cell);
        });
      } else {
        for (let at = plan.from; at < plan.to; at += plan.unitMs) {
          const cell = cells.get(at);
          if (cell !== undefined) visit(at, cell);
        }
      }
    }
    checkKnown(plan, sets !== undefined && sets.size > 0, matched);
    return matched;
  }

  #series(
    map: Map<string, Map<string, Series>>,
    name: string,
    labels: Readonly<Record<string, string>>,
  ): Series | undefined {
    const key = canonicalLabels(labels);
    let sets = map.get(name);
    let series = sets?.get(key);
    if (series !== undefined) return series;
    if (this.#seriesCount >= this.#maxSeries) {
      this.#dropped++;
      return undefined;
    }
    if (sets === undefined) {
      sets = new Map();
      map.set(name, sets);
    }
    series = { labels: { ...labels }, minutes: new Map(), hours: new Map() };
    sets.set(key, series);
    this.#seriesCount++;
    return series;
  }

  #floors(now: number): { minuteFloor: number; hourFloor: number } {
    return {
      minuteFloor: Math.floor((now - this.#settings.minutesMs) / MINUTE_MS) * MINUTE_MS,
      hourFloor: Math.floor((now - this.#settings.hoursMs) / HOUR_MS) * HOUR_MS,
    };
  }

  /** Drops minutes and hours past their retention, at most once a minute unless `force`. */
  #prune(now: number, force: boolean): void {
    if (!force && now - this.#prunedAt < MINUTE_MS) return;
    this.#prunedAt = now;
    const { minuteFloor, hourFloor } = this.#floors(now);
    for (const [id, at] of this.#written) if (at < minuteFloor) this.#written.delete(id);
    for (const map of [this.#operations, this.#metrics]) {
      for (const [name, sets] of map) {
        for (const [key, series] of sets) {
          for (const at of series.minutes.keys()) if (at < minuteFloor) series.minutes.delete(at);
          for (const at of series.hours.keys()) if (at < hourFloor) series.hours.delete(at);
          if (series.minutes.size === 0 && series.hours.size === 0) {
            sets.delete(key);
            this.#seriesCount--;
          }
        }
        if (sets.size === 0) map.delete(name);
      }
    }
  }
}

function add(
  cells: Map<number, Cell>,
  at: number,
  cell: Cell,
  merge: (into: Cell, from: Cell) => Cell,
): void {
  const existing = cells.get(at);
  cells.set(at, existing === undefined ? cell : merge(existing, cell));
}

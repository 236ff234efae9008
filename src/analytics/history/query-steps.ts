import type { HistogramBuckets } from '../../performance/types.js';
import { BucketMerger } from './buckets.js';
import { BUCKETS_AT, type Cell } from './memory-cells.js';
import type { QueryPlan } from './query-plan.js';
import type { HistoryPoint, HistorySeries, MetricPoint, MetricSeries } from './types.js';

// The points of a query, filled from the rollups a store reads: every rollup whose start falls in
// a step is merged into it, buckets added to buckets, so percentiles come from the histogram of
// every call in the step.

const PERCENTILES = [50, 90, 95, 99, 99.9, 100] as const;

/** @internal The points of an operation query, filled rollup by rollup. */
export class OperationSteps {
  readonly #plan: QueryPlan;
  readonly #count: Float64Array;
  readonly #errors: Float64Array;
  readonly #slow: Float64Array;
  readonly #sumMs: Float64Array;
  /**
   * The histograms of the rollups of each step, merged when the series is built: buckets, or the
   * memory store's cells (an array whose buckets are packed).
   */
  readonly #histograms: ((HistogramBuckets | Cell)[] | undefined)[];

  constructor(plan: QueryPlan) {
    this.#plan = plan;
    this.#count = new Float64Array(plan.points);
    this.#errors = new Float64Array(plan.points);
    this.#slow = new Float64Array(plan.points);
    this.#sumMs = new Float64Array(plan.points);
    this.#histograms = new Array(plan.points);
  }

  /** Adds the rollup (minute or hour) starting at `at`; one outside the range is ignored. */
  add(
    at: number,
    count: number,
    errors: number,
    slow: number,
    sumMs: number,
    buckets: HistogramBuckets | undefined,
  ): void {
    const plan = this.#plan;
    if (at < plan.floor) return;
    const i = Math.floor((at - plan.from) / plan.stepMs);
    if (i < 0 || i >= plan.points) return;
    this.#count[i]! += count;
    this.#errors[i]! += errors;
    this.#slow[i]! += slow;
    this.#sumMs[i]! += sumMs;
    if (buckets !== undefined && buckets.indexes.length > 0) this.#keep(i, buckets);
  }

  /** Adds one of the memory store's operation cells starting at `at`. */
  addCell(at: number, cell: Cell): void {
    const plan = this.#plan;
    if (at < plan.floor) return;
    const i = Math.floor((at - plan.from) / plan.stepMs);
    if (i < 0 || i >= plan.points) return;
    this.#count[i]! += cell[0]!;
    this.#errors[i]! += cell[1]!;
    this.#slow[i]! += cell[2]!;
    this.#sumMs[i]! += cell[3]!;
    if (cell.length > BUCKETS_AT) this.#keep(i, cell);
  }

  #keep(i: number, histogram: HistogramBuckets | Cell): void {
    const list = this.#histograms[i];
    if (list === undefined) this.#histograms[i] = [histogram];
    else list.push(histogram);
  }

  /** The series, every step included. */
  series(labelSets: number): HistorySeries {
    const plan = this.#plan;
    const seconds = plan.stepMs / 1000;
    const points: HistoryPoint[] = new Array(plan.points);
    const merger = new BucketMerger();
    for (let i = 0; i < plan.points; i++) {
      const at = plan.from + i * plan.stepMs;
      const count = this.#count[i]!;
      if (count === 0) {
        points[i] = emptyPoint(at);
        continue;
      }
      const list = this.#histograms[i];
      for (let h = 0; list !== undefined && h < list.length; h++) {
        const histogram = list[h]!;
        if (Array.isArray(histogram)) merger.addPacked(histogram, BUCKETS_AT);
        else merger.add(histogram as HistogramBuckets);
      }
      const p = merger.take(PERCENTILES);
      points[i] = {
        at,
        count,
        errors: this.#errors[i]!,
        errorRate: this.#errors[i]! / count,
        slow: this.#slow[i]!,
        rate: count / seconds,
        meanMs: this.#sumMs[i]! / count,
        p50: ms(p[0]),
        p90: ms(p[1]),
        p95: ms(p[2]),
        p99: ms(p[3]),
        p999: ms(p[4]),
        maxMs: ms(p[5]),
      };
    }
    return { operation: plan.name, ...header(plan, labelSets), points };
  }
}

/** Microseconds as milliseconds; `null` for no value. */
function ms(micros: number | undefined): number | null {
  return micros === undefined || Number.isNaN(micros) ? null : micros / 1000;
}

function emptyPoint(at: number): HistoryPoint {
  return {
    at,
    count: 0,
    errors: 0,
    errorRate: 0,
    slow: 0,
    rate: 0,
    meanMs: null,
    p50: null,
    p90: null,
    p95: null,
    p99: null,
    p999: null,
    maxMs: null,
  };
}

interface MetricStep {
  samples: number;
  sum: number;
  min: number;
  max: number;
}

/** @internal The points of a figure query, filled rollup by rollup. */
export class MetricSteps {
  readonly #plan: QueryPlan;
  readonly #steps: (MetricStep | undefined)[];

  constructor(plan: QueryPlan) {
    this.#plan = plan;
    this.#steps = new Array(plan.points);
  }

  add(at: number, samples: number, sum: number, min: number, max: number): void {
    if (at < this.#plan.floor) return;
    const i = Math.floor((at - this.#plan.from) / this.#plan.stepMs);
    if (i < 0 || i >= this.#plan.points || !(samples > 0)) return;
    const step = this.#steps[i];
    if (step === undefined) {
      this.#steps[i] = { samples, sum, min, max };
      return;
    }
    step.samples += samples;
    step.sum += sum;
    if (min < step.min) step.min = min;
    if (max > step.max) step.max = max;
  }

  series(labelSets: number): MetricSeries {
    const plan = this.#plan;
    const points: MetricPoint[] = new Array(plan.points);
    for (let i = 0; i < plan.points; i++) {
      const at = plan.from + i * plan.stepMs;
      const step = this.#steps[i];
      points[i] =
        step === undefined
          ? { at, samples: 0, sum: 0, mean: null, min: null, max: null }
          : {
              at,
              samples: step.samples,
              sum: step.sum,
              mean: step.sum / step.samples,
              min: step.min,
              max: step.max,
            };
    }
    return { metric: plan.name, ...header(plan, labelSets), points };
  }
}

function header(plan: QueryPlan, labelSets: number) {
  return {
    labels: { ...plan.labels },
    labelSets,
    from: plan.from,
    to: plan.to,
    stepMs: plan.stepMs,
    resolution: plan.resolution,
  };
}

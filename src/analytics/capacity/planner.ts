import { type Clock, systemClock } from '../../core/clock.js';
import { type Duration, parseDuration } from '../../core/duration.js';
import { EnterpriseError } from '../../core/errors.js';
import type { MetricSeries } from '../history/types.js';
import { CapacityConfigError, CapacityQueryError } from './errors.js';
import { crossing, fitHolt, holtPoint } from './holt.js';
import type {
  CapacityForecast,
  CapacityHistory,
  CapacityLimit,
  CapacityQuery,
  CapacityReport,
} from './types.js';

/** Options of {@link CapacityPlanner}. */
export interface CapacityPlannerOptions {
  /** The metrics history, or a function giving it (`undefined` while there is none). */
  history: CapacityHistory | (() => CapacityHistory | undefined);
  /** What is watched, and its limits. */
  limits: readonly CapacityLimit[];
  /** History the model is fitted on. @defaultValue '24h' */
  lookback?: Duration;
  /** How far ahead a crossing is looked for. @defaultValue '30d' */
  horizon?: Duration;
  /** Of the prediction interval. @defaultValue 0.95 */
  confidence?: number;
  clock?: Clock;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Points a lookback is cut into, at most (the step is rounded up to whole minutes). */
const TARGET_POINTS = 288;
const MIN_POINTS = 6;
const MAX_HORIZON_STEPS = 100_000;
const CHART_POINTS = 60;

/**
 * Forecasts when resources and queues reach their limits from the metrics history: Holt's linear
 * trend fitted on the last `lookback` of each figure, with a prediction interval giving the
 * earliest and latest plausible times. An instance builds one as `enterprise.capacity`, watching
 * heap, RSS, event-loop delay and utilisation, and every task queue's depth.
 *
 * @example
 * ```ts
 * const planner = new CapacityPlanner({
 *   history: enterprise.history,
 *   limits: [{ metric: 'system.memory.heap_used', limit: 1.5e9, unit: 'bytes', name: 'heap' }],
 * });
 * const { resources } = await planner.forecast({ lookback: '6h', horizon: '7d' });
 * console.log(resources[0]?.reachesAt, resources[0]?.earliestAt);
 * ```
 */
export class CapacityPlanner {
  readonly #history: () => CapacityHistory | undefined;
  readonly #limits: readonly CapacityLimit[];
  readonly #lookbackMs: number;
  readonly #horizonMs: number;
  readonly #confidence: number;
  readonly #clock: Clock;

  constructor(options: CapacityPlannerOptions) {
    const history = options.history;
    this.#history = typeof history === 'function' ? history : () => history;
    if (!Array.isArray(options.limits)) {
      throw new CapacityConfigError('limits', options.limits, 'an array of limits');
    }
    for (const [i, limit] of options.limits.entries()) checkLimit(limit, `limits[${i}]`);
    this.#limits = [...options.limits];
    this.#lookbackMs = durationOption('lookback', options.lookback ?? '24h', CapacityConfigError);
    this.#horizonMs = durationOption('horizon', options.horizon ?? '30d', CapacityConfigError);
    this.#confidence = confidenceOf(options.confidence ?? 0.95, CapacityConfigError);
    this.#clock = options.clock ?? systemClock;
  }

  /** The limits watched. */
  get limits(): readonly CapacityLimit[] {
    return this.#limits;
  }

  /**
   * Every watched resource's forecast. Rejects with a {@link CapacityQueryError} naming a bad
   * parameter; a store that fails rejects with its own error (`E_HISTORY_STORE`).
   */
  async forecast(query: CapacityQuery = {}): Promise<CapacityReport> {
    const lookbackMs =
      query.lookback === undefined
        ? this.#lookbackMs
        : durationOption('lookback', query.lookback, CapacityQueryError);
    const horizonMs =
      query.horizon === undefined
        ? this.#horizonMs
        : durationOption('horizon', query.horizon, CapacityQueryError);
    const confidence =
      query.confidence === undefined
        ? this.#confidence
        : confidenceOf(query.confidence, CapacityQueryError);
    const at = Math.floor(timeOf(query.at ?? this.#clock.epochNow()) / MINUTE_MS) * MINUTE_MS;
    const stepMs = Math.max(1, Math.ceil(lookbackMs / MINUTE_MS / TARGET_POINTS)) * MINUTE_MS;
    const history = this.#history();
    const resources: CapacityForecast[] = [];
    const known = history === undefined ? [] : await history.series();
    for (const limit of this.#limits) {
      const value = typeof limit.limit === 'function' ? limit.limit() : limit.limit;
      if (value === undefined || !Number.isFinite(value) || value <= 0) continue;
      const sets =
        limit.labels !== undefined
          ? [limit.labels]
          : known
              .filter((s) => s.kind === 'metric' && s.name === limit.metric)
              .map((s) => s.labels);
      if (sets.length === 0) sets.push({});
      for (const labels of sets) {
        const series =
          history === undefined
            ? []
            : await readSeries(history, limit, labels, at - lookbackMs, at, stepMs);
        resources.push(
          forecastOne({ limit, value, labels, series, stepMs, horizonMs, confidence, at }),
        );
      }
    }
    return {
      at: new Date(at).toISOString(),
      lookbackMs,
      horizonMs,
      stepMs,
      confidence,
      model: 'holt-linear',
      resources,
    };
  }
}

/** The figure's values over the range, gaps inside it filled by straight lines. */
async function readSeries(
  history: CapacityHistory,
  limit: CapacityLimit,
  labels: Record<string, string>,
  from: number,
  to: number,
  stepMs: number,
): Promise<[number, number][]> {
  let answer: MetricSeries;
  try {
    answer = await history.queryMetric({
      metric: limit.metric,
      labels,
      from,
      to,
      step: `${stepMs / MINUTE_MS}m`,
    });
  } catch (error) {
    if (!(error instanceof EnterpriseError) || error.code !== 'E_HISTORY_QUERY') throw error;
    const parameter = error.context.parameter;
    // Older than the minutes kept: read whole hours instead.
    if (parameter === 'step' && stepMs % HOUR_MS !== 0) {
      return readSeries(history, limit, labels, from, to, Math.ceil(stepMs / HOUR_MS) * HOUR_MS);
    }
    if (parameter === 'metric' || parameter === 'labels') return [];
    throw error;
  }
  const use = limit.use ?? 'mean';
  const known: [number, number][] = [];
  for (const point of answer.points) {
    const value = use === 'max' ? point.max : point.mean;
    if (value !== null && Number.isFinite(value)) known.push([point.at + answer.stepMs / 2, value]);
  }
  if (known.length < 2) return known;
  const filled: [number, number][] = [known[0]!];
  for (let i = 1; i < known.length; i++) {
    const [t0, v0] = filled[filled.length - 1]!;
    const [t1, v1] = known[i]!;
    for (let t = t0 + answer.stepMs; t < t1; t += answer.stepMs) {
      filled.push([t, v0 + ((v1 - v0) * (t - t0)) / (t1 - t0)]);
    }
    filled.push([t1, v1]);
  }
  return filled;
}

interface OneForecast {
  limit: CapacityLimit;
  value: number;
  labels: Record<string, string>;
  series: [number, number][];
  stepMs: number;
  horizonMs: number;
  confidence: number;
  at: number;
}

function forecastOne(input: OneForecast): CapacityForecast {
  const { limit, value, labels, series, horizonMs, confidence } = input;
  const stepMs = series.length >= 2 ? series[1]![0] - series[0]![0] : input.stepMs;
  const current = series.at(-1)?.[1] ?? null;
  const base: CapacityForecast = {
    name: limit.name ?? limit.metric,
    metric: limit.metric,
    labels: { ...labels },
    unit: limit.unit,
    limit: value,
    status: 'insufficient-data',
    current,
    level: null,
    trendPerHour: null,
    utilisation: current === null ? null : current / value,
    reachesAt: null,
    earliestAt: null,
    latestAt: null,
    points: series.length,
    observed: series,
    forecast: [],
  };
  if (series.length < MIN_POINTS) return base;
  const model = fitHolt(series.map(([, v]) => v));
  const last = series.at(-1)![0];
  const steps = Math.min(MAX_HORIZON_STEPS, Math.ceil(horizonMs / stepMs));
  const timeOfStep = (h: number | null) => (h === null ? null : last + h * stepMs);
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  const expected = current! >= value ? 0 : crossing(model, value, steps, confidence, (p) => p.mean);
  const earliest =
    current! >= value ? 0 : crossing(model, value, steps, confidence, (p) => p.upper);
  const latest = current! >= value ? 0 : crossing(model, value, steps, confidence, (p) => p.lower);
  const reaches = timeOfStep(expected);
  const chartSteps = Math.min(
    steps,
    Math.max(series.length, expected === null ? 0 : Math.ceil(expected * 1.25)),
  );
  const every = Math.max(1, Math.ceil(chartSteps / CHART_POINTS));
  const forecast: [number, number, number, number][] = [];
  for (let h = every; h <= chartSteps; h += every) {
    const point = holtPoint(model, h, confidence);
    forecast.push([last + h * stepMs, point.mean, point.lower, point.upper]);
  }
  return {
    ...base,
    status:
      current! >= value
        ? 'exceeded'
        : reaches === null
          ? 'ok'
          : reaches - last <= DAY_MS
            ? 'critical'
            : 'warning',
    level: model.level,
    trendPerHour: (model.trend * HOUR_MS) / stepMs,
    reachesAt: iso(reaches),
    earliestAt: iso(timeOfStep(earliest)),
    latestAt: iso(timeOfStep(latest)),
    forecast,
  };
}

function checkLimit(limit: CapacityLimit, field: string): void {
  if (limit === null || typeof limit !== 'object')
    throw new CapacityConfigError(field, limit, 'a limit');
  if (typeof limit.metric !== 'string' || limit.metric === '') {
    throw new CapacityConfigError(`${field}.metric`, limit.metric, 'a figure name');
  }
  const value = limit.limit;
  if (
    typeof value !== 'function' &&
    !(typeof value === 'number' && Number.isFinite(value) && value > 0)
  ) {
    throw new CapacityConfigError(`${field}.limit`, value, 'a positive number or a function');
  }
  if (limit.use !== undefined && limit.use !== 'mean' && limit.use !== 'max') {
    throw new CapacityConfigError(`${field}.use`, limit.use, "'mean' or 'max'");
  }
}

type ErrorOf = typeof CapacityConfigError | typeof CapacityQueryError;

function durationOption(name: string, value: unknown, Failure: ErrorOf): number {
  let ms: number;
  try {
    ms = parseDuration(/^\d+$/.test(String(value)) ? Number(value) : value, name);
  } catch {
    throw new Failure(name, value, "a duration such as '6h' or '7d'");
  }
  if (ms < 10 * MINUTE_MS || ms > 366 * DAY_MS) {
    throw new Failure(name, value, 'a duration between 10 minutes and 366 days');
  }
  return ms;
}

function confidenceOf(value: unknown, Failure: ErrorOf): number {
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !(number >= 0.5 && number <= 0.999)) {
    throw new Failure('confidence', value, 'a number from 0.5 to 0.999');
  }
  return number;
}

function timeOf(value: number | Date | string): number {
  const ms =
    typeof value === 'number'
      ? value
      : value instanceof Date
        ? value.getTime()
        : /^\d+$/.test(value)
          ? Number(value)
          : Date.parse(value);
  if (!Number.isFinite(ms))
    throw new CapacityQueryError('at', value, 'a time (epoch ms or ISO 8601)');
  return ms;
}

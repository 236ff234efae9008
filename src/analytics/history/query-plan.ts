import { parseDuration } from '../../core/duration.js';
import { HistoryQueryError } from './errors.js';
import { HOUR_MS, MINUTE_MS, type StoreSettings } from './store-settings.js';
import type { HistoryResolution } from './types.js';

// What every store does with a query before reading anything: validate its parameters, pick the
// rollups that answer it (minutes or hours) and lay out its points.

/** @internal A validated query: what to read, where its points start and how many there are. */
export interface QueryPlan {
  kind: 'operation' | 'metric';
  name: string;
  /** The label filter (`{}` for none). */
  labels: Record<string, string>;
  /** Start of the first point: `from` rounded down to the resolution. */
  from: number;
  /** End of the last point. */
  to: number;
  stepMs: number;
  resolution: HistoryResolution;
  /** Length of one rollup of the resolution: a minute or an hour. */
  unitMs: number;
  points: number;
  /**
   * The earliest rollup of the resolution the retention keeps: older ones a store has not deleted
   * yet (a key that expires at the end of its hour or day) are not answered.
   */
  floor: number;
}

/** The query fields {@link planQuery} reads, for operations and figures alike. */
interface QueryInput {
  labels?: unknown;
  from: unknown;
  to: unknown;
  step: unknown;
}

/**
 * @internal Validates a query and lays out its points. Minutes answer it when its step is not a
 * whole number of hours; hours answer it when it is, and must when the range starts before the
 * minutes kept. Throws a {@link HistoryQueryError} naming the parameter at fault.
 *
 * @example
 * ```ts
 * const plan = planQuery('operation', 'GET /users', query, settings);
 * ```
 */
export function planQuery(
  kind: 'operation' | 'metric',
  name: unknown,
  query: QueryInput,
  settings: StoreSettings,
): QueryPlan {
  if (typeof query !== 'object' || query === null) {
    throw new HistoryQueryError('query', query, 'an object with from, to and step');
  }
  const nameParameter = kind === 'operation' ? 'operation' : 'metric';
  if (typeof name !== 'string' || name.length === 0 || name.length > 500) {
    throw new HistoryQueryError(nameParameter, name, 'a non-empty name');
  }
  const labels = checkLabelFilter(query.labels);
  const from = parseTime(query.from, 'from');
  const to = parseTime(query.to, 'to');
  if (to <= from) {
    throw new HistoryQueryError('to', query.to, 'a time after from', 'expected a time after from');
  }
  const stepMs = parseStep(query.step);
  const now = settings.clock.epochNow();
  const minutesStart = Math.floor((now - settings.minutesMs) / MINUTE_MS) * MINUTE_MS;
  let resolution: HistoryResolution = 'minute';
  if (stepMs % HOUR_MS === 0) resolution = 'hour';
  else if (from < minutesStart) {
    throw new HistoryQueryError(
      'step',
      query.step,
      'a whole number of hours',
      `minutes are kept for ${describeSpan(settings.minutesMs)} and the range starts earlier: expected a step of whole hours`,
    );
  }
  const unitMs = resolution === 'hour' ? HOUR_MS : MINUTE_MS;
  const retainedMs = resolution === 'hour' ? settings.hoursMs : settings.minutesMs;
  const floor = Math.floor((now - retainedMs) / unitMs) * unitMs;
  const start = Math.floor(from / unitMs) * unitMs;
  const points = Math.ceil((to - start) / stepMs);
  if (points > settings.maxPoints) {
    throw new HistoryQueryError(
      'step',
      query.step,
      `at most ${settings.maxPoints} points`,
      `the range would make ${points} points and at most ${settings.maxPoints} are answered: expected a longer step or a shorter range`,
    );
  }
  return {
    kind,
    name,
    labels,
    from: start,
    to: start + points * stepMs,
    stepMs,
    resolution,
    unitMs,
    points,
    floor,
  };
}

/** A time from epoch milliseconds, a `Date`, an ISO 8601 string or a string of digits. */
function parseTime(value: unknown, parameter: 'from' | 'to'): number {
  const expected = 'epoch milliseconds, a Date or an ISO 8601 time';
  let ms: number;
  if (typeof value === 'number') ms = value;
  else if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'string' && /^\d+$/.test(value)) ms = Number(value);
  else if (typeof value === 'string' && value.length > 0) ms = Date.parse(value);
  else throw new HistoryQueryError(parameter, value, expected);
  if (!Number.isFinite(ms) || ms < 0 || ms > 8.64e15) {
    throw new HistoryQueryError(parameter, value, expected);
  }
  return Math.floor(ms);
}

function parseStep(value: unknown): number {
  let ms: number;
  try {
    ms = parseDuration(value, 'step');
  } catch {
    throw new HistoryQueryError('step', value, "a duration such as 60, '5m' or '1h'");
  }
  if (ms < MINUTE_MS || ms % MINUTE_MS !== 0) {
    throw new HistoryQueryError('step', value, 'a whole number of minutes (at least one)');
  }
  return ms;
}

function checkLabelFilter(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  const expected = 'an object of label names to string values';
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new HistoryQueryError('labels', value, expected);
  }
  const labels: Record<string, string> = {};
  for (const [name, label] of Object.entries(value)) {
    if (typeof label !== 'string' && typeof label !== 'number' && typeof label !== 'boolean') {
      throw new HistoryQueryError('labels', value, expected);
    }
    labels[name] = String(label);
  }
  return labels;
}

/** `48h`, `90d`, `90m`: the largest whole unit. */
function describeSpan(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS}h`;
  return `${Math.round(ms / MINUTE_MS)}m`;
}

/**
 * @internal Whether `labels` has every pair of `filter`.
 *
 * @example
 * ```ts
 * labelsMatch({ route: '/a', method: 'GET' }, { method: 'GET' }); // true
 * ```
 */
export function labelsMatch(
  labels: Readonly<Record<string, string>>,
  filter: Readonly<Record<string, string>>,
): boolean {
  for (const name in filter) if (labels[name] !== filter[name]) return false;
  return true;
}

/**
 * @internal Rejects a query whose operation (or figure) is unknown, or whose label filter no label
 * set of it matches.
 */
export function checkKnown(plan: QueryPlan, known: boolean, matched: number): void {
  if (!known) {
    throw new HistoryQueryError(
      plan.kind === 'operation' ? 'operation' : 'metric',
      plan.name,
      `the name of ${plan.kind === 'operation' ? 'an operation' : 'a figure'} the history holds`,
      `no ${plan.kind === 'operation' ? 'operation' : 'figure'} of that name is in the history`,
    );
  }
  if (matched === 0) {
    throw new HistoryQueryError(
      'labels',
      plan.labels,
      'labels of a label set the history holds',
      `no label set of "${plan.name}" has these labels`,
    );
  }
}

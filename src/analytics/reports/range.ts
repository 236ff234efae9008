// The range and format of a report request, checked: each error names the parameter.
import type { ResolvedDefinition } from './definition.js';
import { FORMATS } from './definition.js';
import { ReportQueryError } from './errors.js';
import type { GenerateOptions, ReportFormat } from './types.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const MAX_RANGE_MS = 366 * 86_400_000;
/** Charts get about this many points (fewer when the step is rounded up). */
const CHART_POINTS = 60;

/** @internal A checked request. */
export interface ReportRange {
  from: number;
  to: number;
  stepMs: number;
  format: ReportFormat;
}

function timeOf(parameter: 'from' | 'to', value: unknown): number {
  const ms =
    typeof value === 'number'
      ? value
      : value instanceof Date
        ? value.getTime()
        : typeof value === 'string' && /^\d{1,15}$/.test(value)
          ? Number(value)
          : typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)
            ? Date.parse(value)
            : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) {
    throw new ReportQueryError(parameter, value, 'epoch milliseconds or an ISO 8601 time');
  }
  return ms;
}

/** @internal The step of a range's charts: whole minutes, whole hours beyond two days. */
export function chartStep(rangeMs: number): number {
  const raw = rangeMs / CHART_POINTS;
  if (rangeMs > 2 * 86_400_000) return Math.max(1, Math.ceil(raw / HOUR_MS)) * HOUR_MS;
  return Math.max(1, Math.ceil(raw / MINUTE_MS)) * MINUTE_MS;
}

/** @internal `options` checked against `definition`, the range rounded to whole minutes. */
export function resolveRange(
  definition: ResolvedDefinition,
  options: GenerateOptions,
  now: number,
): ReportRange {
  if (options === null || typeof options !== 'object') {
    throw new ReportQueryError('options', options, '{ from, to, format }');
  }
  const format = options.format ?? definition.formats[0]!;
  if (!definition.formats.includes(format as ReportFormat)) {
    const offered = FORMATS.filter((f) => definition.formats.includes(f));
    throw new ReportQueryError('format', format, `one of ${offered.join(', ')}`);
  }
  // By default a report covers the period up to now; a period of whole hours ends at the last
  // whole hour, so that its figures come exactly from the hourly rollups.
  const unit = definition.periodMs % HOUR_MS === 0 ? HOUR_MS : MINUTE_MS;
  const to =
    options.to === undefined
      ? Math.floor(now / unit) * unit
      : Math.floor(timeOf('to', options.to) / MINUTE_MS) * MINUTE_MS;
  const from =
    Math.floor(
      (options.from === undefined ? to - definition.periodMs : timeOf('from', options.from)) /
        MINUTE_MS,
    ) * MINUTE_MS;
  if (to <= from)
    throw new ReportQueryError('to', options.to ?? to, 'a time at least a minute after from');
  if (to - from > MAX_RANGE_MS)
    throw new ReportQueryError('from', options.from, 'a range of at most 366 days');
  if (to > now + HOUR_MS) throw new ReportQueryError('to', options.to, 'a time not in the future');
  return { from, to, stepMs: chartStep(to - from), format: format as ReportFormat };
}

import { describeValue, InvalidArgumentError } from '../../core/errors.js';
import { checkBuckets } from './buckets.js';
import { canonicalLabels } from './series-key.js';
import { MINUTE_MS } from './store-settings.js';
import type { MetricRollup, MinuteRollup, OperationRollup } from './types.js';

// What a store checks before writing a rollup: a rollup that fails is a bug of its producer, and
// is refused whole, before anything of it is written.

function fail(argument: string, value: unknown, expected: string): never {
  throw new InvalidArgumentError(
    `${argument}=${describeValue(value)} is invalid: expected ${expected}`,
    { argument, value, expected },
  );
}

const isCount = (value: unknown) =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function checkSeries(item: { name?: unknown; labels?: unknown }, where: string): void {
  if (typeof item.name !== 'string' || item.name.length === 0 || item.name.length > 500) {
    fail(`${where}.name`, item.name, 'a non-empty name of at most 500 characters');
  }
  const labels = item.labels;
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    fail(`${where}.labels`, labels, 'an object of label names to strings');
  }
  for (const value of Object.values(labels)) {
    if (typeof value !== 'string') {
      fail(`${where}.labels`, labels, 'an object of label names to strings');
    }
  }
}

function checkOperation(op: OperationRollup, where: string): void {
  checkSeries(op, where);
  for (const field of ['count', 'errors', 'slow'] as const) {
    if (!isCount(op[field])) fail(`${where}.${field}`, op[field], 'a whole number of calls');
  }
  if (typeof op.sumMs !== 'number' || !Number.isFinite(op.sumMs) || op.sumMs < 0) {
    fail(`${where}.sumMs`, op.sumMs, 'a non-negative number of milliseconds');
  }
  if (checkBuckets(op.histogram) === undefined) {
    fail(
      `${where}.histogram`,
      op.histogram,
      'parallel arrays of ascending bucket indexes and positive whole counts',
    );
  }
}

function checkMetric(metric: MetricRollup, where: string): void {
  checkSeries(metric, where);
  if (!isCount(metric.samples) || metric.samples === 0) {
    fail(`${where}.samples`, metric.samples, 'a positive whole number of samples');
  }
  for (const field of ['sum', 'min', 'max'] as const) {
    if (typeof metric[field] !== 'number' || !Number.isFinite(metric[field])) {
      fail(`${where}.${field}`, metric[field], 'a finite number');
    }
  }
  if (metric.min > metric.max) fail(`${where}.min`, metric.min, 'at most max');
}

/**
 * @internal Checks a rollup before a store writes it: an id, the start of a minute, and series
 * with names, string labels, whole counts and valid buckets.
 *
 * @example
 * ```ts
 * checkRollup(rollup); // throws InvalidArgumentError naming the field
 * ```
 */
export function checkRollup(rollup: MinuteRollup): void {
  if (typeof rollup !== 'object' || rollup === null) fail('rollup', rollup, 'a MinuteRollup');
  if (typeof rollup.id !== 'string' || rollup.id.length === 0 || rollup.id.length > 200) {
    fail('rollup.id', rollup.id, 'a non-empty string of at most 200 characters');
  }
  const at = rollup.at;
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0 || at % MINUTE_MS !== 0) {
    fail('rollup.at', at, 'the start of a minute, in epoch milliseconds');
  }
  if (!Array.isArray(rollup.operations)) fail('rollup.operations', rollup.operations, 'an array');
  if (!Array.isArray(rollup.metrics)) fail('rollup.metrics', rollup.metrics, 'an array');
  const seen = new Set<string>();
  const once = (kind: string, item: OperationRollup | MetricRollup, where: string) => {
    const key = `${kind}\u0000${item.name}\u0000${canonicalLabels(item.labels)}`;
    if (seen.has(key)) fail(where, item.name, 'each name and label set once per rollup');
    seen.add(key);
  };
  rollup.operations.forEach((op, i) => {
    checkOperation(op, `rollup.operations[${i}]`);
    once('o', op, `rollup.operations[${i}]`);
  });
  rollup.metrics.forEach((metric, i) => {
    checkMetric(metric, `rollup.metrics[${i}]`);
    once('m', metric, `rollup.metrics[${i}]`);
  });
}

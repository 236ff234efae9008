import { describeValue, InvalidArgumentError } from '../core/errors.js';
import type { Attributes, Labels, MonitorOptions } from './types.js';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const RESERVED_LABELS = new Set(['operation', 'le', 'quantile']);

/** Attribute and label values: strings, finite numbers and booleans. */
function checkValue(item: unknown, argument: string, what: 'attribute' | 'label'): void {
  if (
    typeof item === 'string' ||
    typeof item === 'boolean' ||
    (typeof item === 'number' && Number.isFinite(item))
  ) {
    return;
  }
  throw new InvalidArgumentError(
    `${argument}=${describeValue(item)} is not a valid ${what} value: expected a string, a finite number or a boolean`,
    { argument, value: item, expected: 'a string, finite number or boolean' },
  );
}

/** A plain object of values, or the error naming `argument`. */
function checkRecord(value: unknown, argument: string, expected: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(`${argument}=${describeValue(value)} is not an object`, {
      argument,
      value,
      expected,
    });
  }
}

/** @internal Validates an operation name; returns it unchanged. */
export function checkName(name: unknown, argument = 'name'): string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
    throw new InvalidArgumentError(
      `${argument}=${describeValue(name)} is not a valid operation name: expected a non-empty string of at most 200 characters`,
      { argument, value: name, expected: 'a non-empty string of at most 200 characters' },
    );
  }
  return name;
}

/** @internal Validates a slow-call threshold in milliseconds. */
export function checkThreshold(value: unknown, argument = 'thresholdMs'): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value <= 0) {
    throw new InvalidArgumentError(
      `${argument}=${describeValue(value)} is invalid: expected a positive number of milliseconds (Infinity disables slow events)`,
      { argument, value, expected: 'a positive number of milliseconds' },
    );
  }
  return value;
}

/** @internal Validates span attributes: string, finite number or boolean values only. */
export function checkAttributes(value: unknown, argument = 'attributes'): Attributes {
  if (value === undefined) return EMPTY;
  checkRecord(value, argument, 'an object of string, number or boolean values');
  for (const [key, item] of Object.entries(value as object)) {
    checkValue(item, `${argument}.${key}`, 'attribute');
  }
  return value as Attributes;
}

/** @internal Validates labels and returns them as sorted string pairs. */
export function checkLabels(value: unknown, argument = 'labels'): Record<string, string> {
  if (value === undefined) return {};
  checkRecord(value, argument, 'an object of label names to string values');
  const out: Record<string, string> = {};
  for (const key of Object.keys(value as object).sort()) {
    const item = (value as Labels)[key];
    if (!LABEL_NAME.test(key) || key.startsWith('__') || RESERVED_LABELS.has(key)) {
      throw new InvalidArgumentError(
        `${argument}: ${describeValue(key)} is not a valid label name: expected [a-zA-Z_][a-zA-Z0-9_]*, not starting with __ and not one of ${[...RESERVED_LABELS].join(', ')}`,
        { argument: `${argument}.${key}`, value: key, expected: 'a Prometheus label name' },
      );
    }
    checkValue(item, `${argument}.${key}`, 'label');
    out[key] = String(item);
  }
  return out;
}

/** @internal Validates every field of {@link MonitorOptions}. */
export function checkOptions(options: unknown, argument = 'options'): MonitorOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError(`${argument}=${describeValue(options)} is not an object`, {
      argument,
      value: options,
      expected: 'an options object',
    });
  }
  const o = options as MonitorOptions;
  if (o.name !== undefined) checkName(o.name, `${argument}.name`);
  if (o.thresholdMs !== undefined) checkThreshold(o.thresholdMs, `${argument}.thresholdMs`);
  checkAttributes(o.attributes, `${argument}.attributes`);
  checkLabels(o.labels, `${argument}.labels`);
  return o;
}

const EMPTY: Attributes = Object.freeze({});

/**
 * @internal The one way every public entry point reads "a name, or options with a name, plus
 * optional extra options": `('name')`, `('name', { thresholdMs })`, `({ name, thresholdMs })`.
 */
export function normalizeMonitorOptions(nameOrOptions: unknown, extra: unknown): MonitorOptions {
  if (typeof nameOrOptions === 'string' || nameOrOptions === undefined) {
    if (nameOrOptions !== undefined) checkName(nameOrOptions);
    return checkOptions({ ...checkOptions(extra), name: nameOrOptions });
  }
  if (typeof nameOrOptions !== 'object' || nameOrOptions === null || Array.isArray(nameOrOptions)) {
    throw new InvalidArgumentError(
      `${describeValue(nameOrOptions)} is not an operation name or options object`,
      {
        argument: 'nameOrOptions',
        value: nameOrOptions,
        expected: 'a string or an options object',
      },
    );
  }
  return checkOptions({ ...(nameOrOptions as MonitorOptions), ...checkOptions(extra) });
}

/** @internal The error of an argument of the monitor that is not what it should be. */
export function invalidArgument(argument: string, value: unknown, expected = 'a function') {
  return new InvalidArgumentError(
    `${argument}=${describeValue(value)} is invalid: expected ${expected}`,
    {
      argument,
      value,
      expected,
    },
  );
}

// Option checks shared by the detector factories: each failure is an AlertRuleError naming the
// field by its path in the rule (`condition.anomaly.sensitivity`).
import { parseDuration } from '../../core/duration.js';
import { describeValue } from '../../core/errors.js';
import { AlertRuleError } from '../errors.js';

/** Where an option sits: the rule's name and the option's path inside the rule. */
export interface OptionSite {
  rule: string;
  /** `condition.anomaly`, `condition.trend`... */
  path: string;
}

/** Fails on anything but a plain object, and on keys the detector does not know. */
export function checkKeys(
  options: unknown,
  site: OptionSite,
  known: readonly string[],
): Record<string, unknown> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid(site, site.path, options, 'an object of options');
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw invalid(site, `${site.path}.${key}`, (options as Record<string, unknown>)[key], {
        expected: `one of the options ${known.join(', ')}`,
        verb: 'is not an option',
      });
    }
  }
  return options as Record<string, unknown>;
}

/** A finite number within `[min, max]` (`minExclusive` makes the lower bound open). */
export function numberOption(
  value: unknown,
  site: OptionSite,
  key: string,
  range: { min?: number; max?: number; minExclusive?: boolean; integer?: boolean } = {},
): number {
  const { min = -Infinity, max = Infinity, minExclusive = false, integer = false } = range;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (minExclusive ? value > min : value >= min) &&
    value <= max &&
    (!integer || Number.isInteger(value));
  if (ok) return value;
  const bounds = [
    Number.isFinite(min) ? `${minExclusive ? 'above' : 'at least'} ${min}` : '',
    Number.isFinite(max) ? `at most ${max}` : '',
  ].filter(Boolean);
  const kind = integer ? 'an integer' : 'a finite number';
  const expected = bounds.length > 0 ? `${kind} ${bounds.join(' and ')}` : kind;
  throw invalid(site, `${site.path}.${key}`, value, expected);
}

/** A duration in milliseconds, above zero (`'30m'`, or a number of seconds). */
export function durationOption(value: unknown, site: OptionSite, key: string): number {
  let ms: number;
  try {
    ms = parseDuration(value, `${site.path}.${key}`);
  } catch (error) {
    throw invalid(site, `${site.path}.${key}`, value, "a duration such as '30m' or 1800", error);
  }
  if (ms <= 0) throw invalid(site, `${site.path}.${key}`, value, 'a duration above zero');
  return ms;
}

/** One of a few strings. */
export function choiceOption<T extends string>(
  value: unknown,
  site: OptionSite,
  key: string,
  choices: readonly T[],
): T {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value))
    return value as T;
  throw invalid(
    site,
    `${site.path}.${key}`,
    value,
    `one of ${choices.map((c) => `'${c}'`).join(', ')}`,
  );
}

/** `true` or `false`. */
export function booleanOption(value: unknown, site: OptionSite, key: string): boolean {
  if (typeof value === 'boolean') return value;
  throw invalid(site, `${site.path}.${key}`, value, 'true or false');
}

/** An AlertRuleError for `field`, in the message format of the alerts module. */
export function invalid(
  site: OptionSite,
  field: string,
  value: unknown,
  expected: string | { expected: string; verb: string },
  cause?: unknown,
): AlertRuleError {
  const { expected: what, verb } =
    typeof expected === 'string' ? { expected, verb: 'is invalid' } : expected;
  return new AlertRuleError(
    `rule "${site.rule}": ${field}=${describeValue(value)} ${verb}: expected ${what}`,
    { rule: site.rule, field, value },
    cause,
  );
}

import { describeValue, InvalidArgumentError } from './errors.js';

/**
 * A duration: a number of **seconds** (as in `ttl: 3600`), or a string with a unit:
 * `'500ms'`, `'30s'`, `'5m'`, `'1h'`, `'7d'`. Options whose name ends in `Ms` take milliseconds instead.
 */
export type Duration = number | `${number}${DurationUnit}` | `${number}`;

/** The units a duration string may carry. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

const UNIT_MS: Record<DurationUnit, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PATTERN = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)?\s*$/i;

/**
 * Converts a {@link Duration} to milliseconds.
 *
 * A bare number, or a string holding only a number, counts as seconds. Negative, non-finite and
 * unit-less garbage values throw an {@link InvalidArgumentError} naming `name`.
 *
 * @param value - the duration to convert.
 * @param name - the option it came from, used in the error message.
 * @example
 * ```ts
 * parseDuration(3600);   // 3_600_000
 * parseDuration('5m');   // 300_000
 * parseDuration('250ms'); // 250
 * ```
 */
export function parseDuration(value: unknown, name = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value * 1_000;
  } else if (typeof value === 'string') {
    const match = PATTERN.exec(value);
    if (match) {
      const unit = (match[2]?.toLowerCase() ?? 's') as DurationUnit;
      return Number(match[1]) * UNIT_MS[unit];
    }
  }
  throw new InvalidArgumentError(
    `${name}=${describeValue(value)} is not a duration: expected a number of seconds or a string such as '500ms', '30s', '5m', '1h', '7d'`,
    {
      argument: name,
      value,
      expected: 'a non-negative number of seconds or a string with a unit (ms, s, m, h, d)',
    },
  );
}

import { describeValue, InvalidArgumentError } from '../core/errors.js';
import type { RetentionSpec } from './types.js';

/** Retention as options take it: either bound of either kind may be left out. */
export interface RetentionOptions {
  /** Completed (and cancelled) tasks kept. @defaultValue `{ count: 1000, ageMs: 86_400_000 }` (one day) */
  completed?: { count?: number; ageMs?: number };
  /** Dead tasks kept. @defaultValue `{ count: 10000, ageMs: 604_800_000 }` (seven days) */
  dead?: { count?: number; ageMs?: number };
}

/** The retention both backends apply when none is given. */
export const DEFAULT_RETENTION: RetentionSpec = Object.freeze({
  completed: Object.freeze({ count: 1_000, ageMs: 86_400_000 }),
  dead: Object.freeze({ count: 10_000, ageMs: 604_800_000 }),
});

function bound(value: unknown, fallback: number, argument: string): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  throw new InvalidArgumentError(
    `${argument}=${describeValue(value)} is invalid: expected a non-negative whole number`,
    { argument, value, expected: 'a non-negative whole number' },
  );
}

/**
 * Completes partial retention options with {@link DEFAULT_RETENTION} and validates them.
 *
 * @example
 * ```ts
 * resolveRetention({ completed: { count: 100 } }); // { completed: { count: 100, ageMs: 86400000 }, dead: {...} }
 * ```
 */
export function resolveRetention(options: RetentionOptions = {}): RetentionSpec {
  return {
    completed: {
      count: bound(
        options.completed?.count,
        DEFAULT_RETENTION.completed.count,
        'retention.completed.count',
      ),
      ageMs: bound(
        options.completed?.ageMs,
        DEFAULT_RETENTION.completed.ageMs,
        'retention.completed.ageMs',
      ),
    },
    dead: {
      count: bound(options.dead?.count, DEFAULT_RETENTION.dead.count, 'retention.dead.count'),
      ageMs: bound(options.dead?.ageMs, DEFAULT_RETENTION.dead.ageMs, 'retention.dead.ageMs'),
    },
  };
}

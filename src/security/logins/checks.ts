import { parseDuration } from '../../core/duration.js';
import { describeValue } from '../../core/errors.js';
import { SecurityConfigError } from '../errors.js';

/**
 * @internal Validators of the login and client options: each throws a {@link SecurityConfigError}
 * whose `context.field` names the option.
 *
 * @example
 * ```ts
 * const failures = positiveInteger(options.failures ?? 10, 'bruteForce.failures');
 * ```
 */
export function positiveInteger(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw invalid(value, field, 'a positive integer');
  }
  return value;
}

/**
 * @internal A finite number that is not negative.
 *
 * @example
 * ```ts
 * const weight = nonNegative(options.weights.threat ?? 1, 'weights.threat');
 * ```
 */
export function nonNegative(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(value, field, 'a finite number not below 0');
  }
  return value;
}

/**
 * @internal A number from 0 to 1 (a rate, a share).
 *
 * @example
 * ```ts
 * const rate = ratio(options.maxSuccessRate ?? 0.3, 'stuffing.maxSuccessRate');
 * ```
 */
export function ratio(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw invalid(value, field, 'a number from 0 to 1');
  }
  return value;
}

/**
 * @internal A positive {@link Duration} in milliseconds.
 *
 * @example
 * ```ts
 * const windowMs = positiveDuration(options.window ?? '10m', 'window');
 * ```
 */
export function positiveDuration(value: unknown, field: string): number {
  let ms: number;
  try {
    ms = parseDuration(value, field);
  } catch {
    throw invalid(value, field, "a duration: seconds, or a string such as '30s', '10m', '1h'");
  }
  if (ms <= 0) throw invalid(value, field, 'a duration above 0');
  return ms;
}

/**
 * @internal A non-empty string argument (a user id, an address, a client key).
 *
 * @example
 * ```ts
 * const userId = nonEmptyString(attempt.userId, 'userId');
 * ```
 */
export function nonEmptyString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw invalid(value, field, 'a non-empty string');
  }
  return value;
}

/**
 * @internal One of the strings `allowed`.
 *
 * @example
 * ```ts
 * const scope = oneOf(lock.scope ?? 'account-address', ['account', 'account-address'], 'lockout.scope');
 * ```
 */
export function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(value, field, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

function invalid(value: unknown, field: string, expected: string): SecurityConfigError {
  return new SecurityConfigError(
    `${field}=${describeValue(value)} is invalid: expected ${expected}`,
    {
      field,
      value,
      expected,
    },
  );
}

import { parseDuration } from '../core/duration.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import type { BackoffOptions } from './api-types.js';
import type { BackoffSpec } from './types.js';

/** The backoff used when none is given: 1 s, 2 s, 4 s, ... up to 5 minutes, 20% jitter. */
export const DEFAULT_BACKOFF: BackoffSpec = Object.freeze({
  type: 'exponential',
  delayMs: 1_000,
  factor: 2,
  maxDelayMs: 300_000,
  jitter: 0.2,
});

/**
 * Completes backoff options (`'fixed'`, `'exponential'` or an object) over `base`.
 *
 * @internal
 */
export function resolveBackoff(
  options: BackoffOptions | BackoffSpec['type'] | undefined,
  base: BackoffSpec = DEFAULT_BACKOFF,
  argument = 'backoff',
): BackoffSpec {
  if (options === undefined) return base;
  if (options === 'fixed' || options === 'exponential') return { ...base, type: options };
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(
      `${argument}=${describeValue(options)} is invalid: expected 'fixed', 'exponential' or an object`,
      { argument, value: options, expected: "'fixed', 'exponential' or { type, delay, ... }" },
    );
  }
  const type = options.type ?? base.type;
  if (type !== 'fixed' && type !== 'exponential') {
    throw new InvalidArgumentError(
      `${argument}.type=${describeValue(type)} is invalid: expected 'fixed' or 'exponential'`,
      { argument: `${argument}.type`, value: type, expected: "'fixed' or 'exponential'" },
    );
  }
  const factor = options.factor ?? base.factor;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    throw new InvalidArgumentError(
      `${argument}.factor=${describeValue(factor)} is invalid: expected a number of at least 1`,
      { argument: `${argument}.factor`, value: factor, expected: 'a number >= 1' },
    );
  }
  const jitter = options.jitter ?? base.jitter;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
    throw new InvalidArgumentError(
      `${argument}.jitter=${describeValue(jitter)} is invalid: expected a number from 0 to 1`,
      { argument: `${argument}.jitter`, value: jitter, expected: 'a number from 0 to 1' },
    );
  }
  const delayMs =
    options.delay === undefined ? base.delayMs : parseDuration(options.delay, `${argument}.delay`);
  const maxDelayMs =
    options.maxDelay === undefined
      ? Math.max(base.maxDelayMs, delayMs)
      : parseDuration(options.maxDelay, `${argument}.maxDelay`);
  return { type, delayMs, factor, maxDelayMs: Math.max(maxDelayMs, 0), jitter };
}

/**
 * The delay before retry number `attempt` (1 = the first retry): `delayMs * factor^(attempt-1)`
 * capped at `maxDelayMs` (always `delayMs` when fixed), of which the `jitter` fraction is random
 * — "equal jitter" at 0.5, "full jitter" at 1 — so failures of many tasks at once do not all
 * retry in the same instant.
 *
 * @example
 * ```ts
 * backoffDelay({ type: 'exponential', delayMs: 1000, factor: 2, maxDelayMs: 60000, jitter: 0 }, 3); // 4000
 * ```
 */
export function backoffDelay(spec: BackoffSpec, attempt: number, random = Math.random): number {
  const raw =
    spec.type === 'fixed'
      ? spec.delayMs
      : spec.delayMs * spec.factor ** Math.max(0, Math.min(attempt - 1, 1_000));
  const capped = Math.min(raw, spec.maxDelayMs);
  const jitter = Math.min(Math.max(spec.jitter, 0), 1);
  return Math.round(capped * (1 - jitter) + capped * jitter * random());
}

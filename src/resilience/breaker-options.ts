import type { Clock } from '../core/clock.js';
import { describeValue } from '../core/errors.js';
import type { BreakerRegistry } from './breaker-registry.js';
import { CircuitConfigError } from './errors.js';

/**
 * The error-rate policy: the circuit opens when, over the last `windowMs`, at least `minimumCalls`
 * calls were made and the failed share of them reached `threshold`.
 *
 * @example
 * ```ts
 * const policy: ErrorRatePolicy = { threshold: 0.5, windowMs: 10_000, minimumCalls: 20 };
 * ```
 */
export interface ErrorRatePolicy {
  /** The failed share (0 to 1, exclusive of 0) that opens the circuit. */
  threshold: number;
  /** How far back calls are counted, in milliseconds. @defaultValue 10000 */
  windowMs?: number;
  /** No opening on fewer calls than this in the window. @defaultValue 10 */
  minimumCalls?: number;
  /** Slices of the window (its resolution): the oldest slice is dropped as a whole. @defaultValue 10 */
  buckets?: number;
}

/**
 * Options of {@link circuitBreaker}. Without `consecutiveFailures` or `errorRate`, the circuit
 * opens after 5 failures in a row; with both, whichever trips first opens it.
 *
 * @example
 * ```ts
 * const options: CircuitBreakerOptions<null> = {
 *   errorRate: { threshold: 0.5, windowMs: 30_000, minimumCalls: 20 },
 *   halfOpenAfterMs: 15_000,
 *   timeoutMs: 2_000,
 *   isFailure: (error) => !(error instanceof NotFoundError),
 *   fallback: () => null,
 * };
 * ```
 */
export interface CircuitBreakerOptions<F = never> {
  /** Failures in a row that open the circuit. @defaultValue 5 (when `errorRate` is not given) */
  consecutiveFailures?: number;
  /** Opens the circuit on the error rate over a sliding window. */
  errorRate?: ErrorRatePolicy;
  /** How long an open circuit rejects calls before it lets one trial call through. @defaultValue 10000 */
  halfOpenAfterMs?: number;
  /**
   * Each call fails with a `CircuitTimeoutError` (a failure) when it has not settled within this
   * many milliseconds; 0 for none. @defaultValue 0
   */
  timeoutMs?: number;
  /**
   * Answers a call that was rejected, timed out or failed with an error that counts, in place of
   * that error. Not used for errors `isFailure` lets through nor for a call its caller aborted.
   */
  fallback?: (error: unknown) => F | PromiseLike<F>;
  /**
   * Whether an error is a failure of the dependency (the default: every error). Errors it
   * declines (a 404, a validation error) are rethrown unchanged, and count as a sign the
   * dependency answers.
   */
  isFailure?: (error: unknown) => boolean;
  /**
   * Where the breaker is listed for `/health`, Prometheus and the dashboard, or `false` for
   * nowhere. @defaultValue the process registry, {@link defaultBreakerRegistry}
   */
  registry?: BreakerRegistry | false;
  /**
   * The time source of the open period (tests inject a fake one). Timeouts and the error-rate
   * window follow the timers instead (fake them with `vi.useFakeTimers()`). @defaultValue the system clock
   */
  clock?: Clock;
}

/** @internal The options of a breaker, checked and with their defaults. */
export interface ResolvedBreakerOptions {
  consecutiveFailures: number;
  errorRate: Required<ErrorRatePolicy> | undefined;
  halfOpenAfterMs: number;
  timeoutMs: number;
  fallback: ((error: unknown) => unknown) | undefined;
  isFailure: ((error: unknown) => boolean) | undefined;
}

const KNOWN = new Set([
  'consecutiveFailures',
  'errorRate',
  'halfOpenAfterMs',
  'timeoutMs',
  'fallback',
  'isFailure',
  'registry',
  'clock',
  // The decorator's own option, allowed here so one object can serve both.
  'name',
]);

/**
 * @internal Checks the options of breaker `name`; throws a {@link CircuitConfigError} naming the
 * first invalid one.
 */
export function resolveBreakerOptions(
  name: unknown,
  options: CircuitBreakerOptions<unknown> | undefined,
): ResolvedBreakerOptions {
  const breaker = typeof name === 'string' ? name : String(name);
  const fail = (option: string, value: unknown, expected: string): never => {
    throw new CircuitConfigError(
      `circuit "${breaker}": ${option}=${describeValue(value)} is invalid: expected ${expected}`,
      { breaker, option, value, expected },
    );
  };
  if (typeof name !== 'string' || name.trim() === '') fail('name', name, 'a non-empty string');
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object')
    fail('options', options, 'an object of options');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) fail(key, (options as Record<string, unknown>)[key], 'no such option');
  }
  const integer = (option: string, value: unknown, min: number): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      fail(option, value, min === 0 ? 'a non-negative integer' : `an integer of at least ${min}`);
    }
    return value as number;
  };
  const milliseconds = (option: string, value: unknown, zero: boolean): number => {
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      value < 0 ||
      (!zero && value === 0)
    ) {
      fail(
        option,
        value,
        zero ? 'a non-negative number of milliseconds' : 'a positive number of milliseconds',
      );
    }
    return value as number;
  };
  let errorRate: Required<ErrorRatePolicy> | undefined;
  if (options.errorRate !== undefined) {
    const policy = options.errorRate;
    if (policy === null || typeof policy !== 'object')
      fail('errorRate', policy, 'an object { threshold, windowMs?, minimumCalls?, buckets? }');
    const { threshold } = policy;
    if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1)) {
      fail('errorRate.threshold', threshold, 'a share above 0 and at most 1, such as 0.5');
    }
    errorRate = {
      threshold,
      windowMs: milliseconds('errorRate.windowMs', policy.windowMs ?? 10_000, false),
      minimumCalls: integer('errorRate.minimumCalls', policy.minimumCalls ?? 10, 1),
      buckets: integer('errorRate.buckets', policy.buckets ?? 10, 1),
    };
    if (errorRate.buckets > 1000) fail('errorRate.buckets', errorRate.buckets, 'at most 1000');
  }
  const consecutiveFailures =
    options.consecutiveFailures === undefined
      ? errorRate === undefined
        ? 5
        : 0
      : integer('consecutiveFailures', options.consecutiveFailures, 1);
  const callback = <T>(option: string, value: T): T => {
    if (value !== undefined && typeof value !== 'function') fail(option, value, 'a function');
    return value;
  };
  if (
    options.registry !== undefined &&
    options.registry !== false &&
    (options.registry === null || typeof (options.registry as BreakerRegistry).add !== 'function')
  ) {
    fail('registry', options.registry, 'a BreakerRegistry or false');
  }
  if (
    options.clock !== undefined &&
    (options.clock === null || typeof options.clock.now !== 'function')
  ) {
    fail('clock', options.clock, 'a Clock ({ now, epochNow })');
  }
  return {
    consecutiveFailures,
    errorRate,
    halfOpenAfterMs: milliseconds('halfOpenAfterMs', options.halfOpenAfterMs ?? 10_000, false),
    timeoutMs: milliseconds('timeoutMs', options.timeoutMs ?? 0, true),
    fallback: callback('fallback', options.fallback as ((error: unknown) => unknown) | undefined),
    isFailure: callback('isFailure', options.isFailure),
  };
}

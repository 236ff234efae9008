import { EnterpriseError } from '../core/errors.js';

/**
 * A call was not made because its circuit breaker is open, isolated, or half-open with its one
 * trial call already running. Rejected at once, without touching the dependency.
 *
 * @example
 * ```ts
 * try {
 *   await payments.execute(() => charge(order));
 * } catch (error) {
 *   if (error instanceof CircuitOpenError) return queueForLater(order); // E_CIRCUIT_OPEN
 *   throw error;
 * }
 * ```
 */
export class CircuitOpenError extends EnterpriseError {
  /** The breaker's name. */
  readonly breaker: string;
  /** `open` (also while isolated) or `half-open` (the trial call is running). */
  readonly state: 'open' | 'half-open';

  constructor(breaker: string, state: 'open' | 'half-open', retryAt: number | null) {
    super(
      'E_CIRCUIT_OPEN',
      state === 'half-open'
        ? `circuit "${breaker}" is half-open and its trial call is running`
        : `circuit "${breaker}" is open`,
      { context: { breaker, state, retryAt } },
    );
    this.breaker = breaker;
    this.state = state;
  }
}

/**
 * A call protected by a breaker with `timeoutMs` did not settle in time. It counts as a failure of
 * the dependency; the call itself may still settle later, and that late outcome is ignored.
 *
 * @example
 * ```ts
 * const search = circuitBreaker('search', { timeoutMs: 800 });
 * await search.execute((signal) => fetch(url, { signal })); // CircuitTimeoutError (E_CIRCUIT_TIMEOUT)
 * ```
 */
export class CircuitTimeoutError extends EnterpriseError {
  /** The breaker's name. */
  readonly breaker: string;
  /** The timeout that passed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(breaker: string, timeoutMs: number) {
    super(
      'E_CIRCUIT_TIMEOUT',
      `circuit "${breaker}": the call did not settle within ${timeoutMs} ms`,
      {
        context: { breaker, timeoutMs },
      },
    );
    this.breaker = breaker;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * A breaker or health check was given an invalid option. The message names the breaker, the
 * option, the value and what was expected.
 *
 * @example
 * ```ts
 * circuitBreaker('payments', { consecutiveFailures: 0 });
 * // CircuitConfigError (E_CIRCUIT_CONFIG): circuit "payments": consecutiveFailures=0 is invalid: expected a positive integer
 * ```
 */
export class CircuitConfigError extends EnterpriseError {
  constructor(
    message: string,
    context: { breaker: string; option: string; value: unknown; expected: string },
  ) {
    super('E_CIRCUIT_CONFIG', message, { context });
  }
}

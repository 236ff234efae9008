import { setTimeout as sleep } from 'node:timers/promises';
import { SecurityRefusalError } from '../errors.js';
import type { LoginAttempt } from '../types.js';
import type { LoginCheck } from './policy.js';

/**
 * What {@link wrapLogin} needs of the analytics: the policy and the recording.
 *
 * @example
 * ```ts
 * const recorder: LoginRecorder = new LoginAnalytics();
 * ```
 */
export interface LoginRecorder {
  check(userId: string, ip: string): LoginCheck;
  record(attempt: LoginAttempt): unknown;
}

/**
 * Options of {@link wrapLogin}.
 *
 * @example
 * ```ts
 * const options: WrapLoginOptions<User | null> = { succeeded: (user) => user !== null };
 * ```
 */
export interface WrapLoginOptions<R> {
  /** Whether a returned value is a successful login. @defaultValue the value is truthy */
  succeeded?: (result: R) => boolean;
  /**
   * Whether a thrown error is a failed login (a wrong password) rather than a fault of the login
   * function itself (its database being down), which is then rethrown without being recorded.
   * @defaultValue every error counts as a failed login
   */
  failure?: (error: unknown) => boolean;
  /** The reason recorded for a failure. @defaultValue 'bad-credentials' */
  reason?: string;
  /** Apply `check()` before calling the function. @defaultValue true */
  enforce?: boolean;
}

/**
 * Wraps a login function so that each call is checked against the lockout and delay policy and
 * recorded as a success or a failure. While locked the wrapper records the attempt (reason
 * `locked`) and rejects with a {@link SecurityRefusalError} (429, `context.retryAfterMs`,
 * `context.lockedUntil`) without calling the function; under the progressive delay it waits
 * `delayMs` first.
 *
 * @example
 * ```ts
 * const login = wrapLogin(logins, authenticate, (req) => ({ userId: req.body.username, ip: req.ip }), {
 *   succeeded: (user) => user !== null,
 * });
 * const user = await login(req);
 * ```
 */
export function wrapLogin<A extends unknown[], R>(
  recorder: LoginRecorder,
  fn: (...args: A) => R,
  extract: (...args: A) => { userId: string; ip: string },
  options: WrapLoginOptions<Awaited<R>> = {},
): (...args: A) => Promise<Awaited<R>> {
  const succeeded = options.succeeded ?? ((result: Awaited<R>) => Boolean(result));
  const isFailure = options.failure ?? (() => true);
  const reason = options.reason ?? 'bad-credentials';
  const enforce = options.enforce ?? true;
  return async function wrappedLogin(this: unknown, ...args: A): Promise<Awaited<R>> {
    const { userId, ip } = extract(...args);
    if (enforce) {
      const decision = recorder.check(userId, ip);
      if (!decision.allowed) {
        recorder.record({ userId, ip, success: false, reason: 'locked' });
        throw new SecurityRefusalError(429, 'too many failed logins: try again later', {
          reason: 'rate-limit',
          retryAfterMs: decision.delayMs,
          lockedUntil: decision.lockedUntil,
          locked: decision.locked,
        });
      }
      if (decision.delayMs > 0) await sleep(decision.delayMs, undefined, { ref: false });
    }
    let result: Awaited<R>;
    try {
      result = await fn.apply(this, args);
    } catch (error) {
      if (isFailure(error)) recorder.record({ userId, ip, success: false, reason });
      throw error;
    }
    const ok = succeeded(result);
    recorder.record(ok ? { userId, ip, success: true } : { userId, ip, success: false, reason });
    return result;
  };
}

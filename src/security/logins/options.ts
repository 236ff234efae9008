import { type Clock, systemClock } from '../../core/clock.js';
import type { Duration } from '../../core/duration.js';
import { nonNegative, oneOf, positiveDuration, positiveInteger, ratio } from './checks.js';

const SCOPES = ['account', 'account-address'] as const;

/**
 * Options of {@link LoginAnalytics}. Every field is optional; detectors are on, the lockout and
 * the progressive delay are off until given.
 *
 * @example
 * ```ts
 * const options: LoginAnalyticsOptions = {
 *   window: '10m',
 *   bruteForce: { failures: 10 },
 *   lockout: { failures: 5, duration: '15m' },
 *   delay: { afterFailures: 3, baseMs: 1_000, maxMs: 30_000 },
 * };
 * ```
 */
export interface LoginAnalyticsOptions {
  /** The sliding window of the detectors and of `stats()`. @defaultValue '10m' */
  window?: Duration;
  /** Many failures on one account, from any address. `false` turns it off. */
  bruteForce?: { /** Failures in the window. @defaultValue 10 */ failures?: number } | false;
  /** One address failing on many accounts. `false` turns it off. */
  spraying?:
    | {
        /** Distinct accounts failed from one address in the window. @defaultValue 10 */
        accounts?: number;
      }
    | false;
  /** Many addresses failing on many accounts with few successes, deployment-wide. */
  stuffing?:
    | {
        /** Failures in the window. @defaultValue 100 */
        failures?: number;
        /** Distinct failing addresses in the window. @defaultValue 20 */
        addresses?: number;
        /** Distinct failing accounts in the window. @defaultValue 50 */
        accounts?: number;
        /** Fires only while successes / attempts is at most this. @defaultValue 0.3 */
        maxSuccessRate?: number;
      }
    | false;
  /** Locks after consecutive failures; off unless given. */
  lockout?: LockoutOptions | false;
  /** Asks for a growing wait after consecutive failures of an account; off unless given. */
  delay?: DelayOptions | false;
  /** Accounts with recent failures tracked at once; the least recent go first. @defaultValue 10000 */
  maxAccounts?: number;
  /** Addresses with recent failures tracked at once; the least recent go first. @defaultValue 10000 */
  maxAddresses?: number;
  /** Entries of `stats().topAccounts` and `topAddresses`. @defaultValue 10 */
  top?: number;
  /** The time source (tests). @defaultValue systemClock */
  clock?: Clock;
}

/**
 * The lockout policy: `check()` refuses an account (or an account from one address) after
 * `failures` consecutive failures, for `duration`, doubled at each further lockout up to
 * `maxDuration`; and an address after `addressFailures` failures in the window.
 *
 * @example
 * ```ts
 * const lockout: LockoutOptions = { failures: 5, duration: '15m', scope: 'account-address' };
 * ```
 */
export interface LockoutOptions {
  /** Consecutive failures (a success resets them) that lock. @defaultValue 5 */
  failures?: number;
  /** How long the first lockout lasts. @defaultValue '15m' */
  duration?: Duration;
  /** The longest lockout, however many came before. @defaultValue '24h' */
  maxDuration?: Duration;
  /**
   * `'account-address'` locks the account for the address that failed only, so an attacker cannot
   * lock its owner out (OWASP's advice); `'account'` locks it for every address.
   * @defaultValue 'account-address'
   */
  scope?: 'account' | 'account-address';
  /** Failures from one address in the window, on any accounts, that lock the address. @defaultValue 100 */
  addressFailures?: number;
}

/**
 * The progressive delay: after `afterFailures` consecutive failures of an account, the next
 * attempt should wait `baseMs`, doubled at each further failure up to `maxMs`, counted from the
 * last failure.
 *
 * @example
 * ```ts
 * const delay: DelayOptions = { afterFailures: 3, baseMs: 1_000, maxMs: 30_000 };
 * ```
 */
export interface DelayOptions {
  /** Consecutive failures before any delay. @defaultValue 3 */
  afterFailures?: number;
  /** The first delay in milliseconds. @defaultValue 1000 */
  baseMs?: number;
  /** The longest delay in milliseconds. @defaultValue 30000 */
  maxMs?: number;
}

/** @internal The options with their defaults, checked. */
export interface ResolvedLoginOptions {
  windowMs: number;
  bruteForce: { failures: number } | undefined;
  spraying: { accounts: number } | undefined;
  stuffing:
    | { failures: number; addresses: number; accounts: number; maxSuccessRate: number }
    | undefined;
  lockout:
    | {
        failures: number;
        durationMs: number;
        maxDurationMs: number;
        scope: 'account' | 'account-address';
        addressFailures: number;
      }
    | undefined;
  delay: { afterFailures: number; baseMs: number; maxMs: number } | undefined;
  maxAccounts: number;
  maxAddresses: number;
  top: number;
  clock: Clock;
}

/**
 * @internal Fills in the defaults and checks every option; a bad one is a SecurityConfigError
 * naming it.
 *
 * @example
 * ```ts
 * const resolved = resolveLoginOptions({ bruteForce: { failures: 5 } });
 * ```
 */
export function resolveLoginOptions(options: LoginAnalyticsOptions = {}): ResolvedLoginOptions {
  const brute = options.bruteForce === false ? undefined : (options.bruteForce ?? {});
  const spray = options.spraying === false ? undefined : (options.spraying ?? {});
  const stuff = options.stuffing === false ? undefined : (options.stuffing ?? {});
  const lock = options.lockout === false ? undefined : options.lockout;
  const delay = options.delay === false ? undefined : options.delay;
  const scope = oneOf(lock?.scope ?? 'account-address', SCOPES, 'lockout.scope');
  const resolvedDelay =
    delay === undefined
      ? undefined
      : {
          afterFailures: positiveInteger(delay.afterFailures ?? 3, 'delay.afterFailures'),
          baseMs: nonNegative(delay.baseMs ?? 1_000, 'delay.baseMs'),
          maxMs: nonNegative(delay.maxMs ?? 30_000, 'delay.maxMs'),
        };
  const durationMs =
    lock === undefined ? 0 : positiveDuration(lock.duration ?? '15m', 'lockout.duration');
  return {
    windowMs: positiveDuration(options.window ?? '10m', 'window'),
    bruteForce: brute && { failures: positiveInteger(brute.failures ?? 10, 'bruteForce.failures') },
    spraying: spray && { accounts: positiveInteger(spray.accounts ?? 10, 'spraying.accounts') },
    stuffing: stuff && {
      failures: positiveInteger(stuff.failures ?? 100, 'stuffing.failures'),
      addresses: positiveInteger(stuff.addresses ?? 20, 'stuffing.addresses'),
      accounts: positiveInteger(stuff.accounts ?? 50, 'stuffing.accounts'),
      maxSuccessRate: ratio(stuff.maxSuccessRate ?? 0.3, 'stuffing.maxSuccessRate'),
    },
    lockout: lock && {
      failures: positiveInteger(lock.failures ?? 5, 'lockout.failures'),
      durationMs,
      maxDurationMs: Math.max(
        durationMs,
        positiveDuration(lock.maxDuration ?? '24h', 'lockout.maxDuration'),
      ),
      scope,
      addressFailures: positiveInteger(lock.addressFailures ?? 100, 'lockout.addressFailures'),
    },
    delay: resolvedDelay,
    maxAccounts: positiveInteger(options.maxAccounts ?? 10_000, 'maxAccounts'),
    maxAddresses: positiveInteger(options.maxAddresses ?? 10_000, 'maxAddresses'),
    top: positiveInteger(options.top ?? 10, 'top'),
    clock: options.clock ?? systemClock,
  };
}

import type { Clock } from '../../core/clock.js';
import { describeValue } from '../../core/errors.js';
import { Emitter } from '../../core/events.js';
import { SecurityConfigError } from '../errors.js';
import type { LoginAttempt, ThreatEvent } from '../types.js';
import { nonEmptyString } from './checks.js';
import {
  type Deployment,
  detectBruteForce,
  detectSpraying,
  detectStuffing,
  stuffingFigures,
} from './detectors.js';
import {
  type AccountState,
  type AddressState,
  newAccount,
  newAddress,
  newPair,
  type PairState,
  pairKey,
  stateKey,
} from './login-state.js';
import {
  type LoginAnalyticsOptions,
  type ResolvedLoginOptions,
  resolveLoginOptions,
} from './options.js';
import { decide, type LockoutEvent, type LoginCheck, onFailure, onSuccess } from './policy.js';
import { RecencyMap } from './recency-map.js';
import { type LoginStats, loginStats } from './stats.js';
import { WindowCounter } from './window-counter.js';
import { type WrapLoginOptions, wrapLogin } from './wrap-login.js';

/**
 * The events of {@link LoginAnalytics}.
 *
 * @example
 * ```ts
 * logins.on('threat', (threat) => clients.recordThreat(threat));
 * ```
 */
export type LoginAnalyticsEvents = {
  /** A detector fired: brute force, password spraying or credential stuffing. */
  threat: [event: ThreatEvent];
  /** An account, an account from one address, or an address was locked. */
  lockout: [event: LockoutEvent];
  /** Every attempt recorded, after validation, with its time. */
  attempt: [attempt: LoginAttempt & { at: number }];
};

/**
 * Authentication analytics: records login attempts, detects brute force on one account, password
 * spraying from one address and credential stuffing across the deployment over a sliding window,
 * keeps per-window figures, and (when configured) a lockout and progressive-delay policy that
 * `check()` applies before a password is verified. Memory is bounded: accounts and addresses with
 * recent failures only, up to `maxAccounts` / `maxAddresses`, the least recent going first.
 *
 * @example
 * ```ts
 * const logins = new LoginAnalytics({ lockout: { failures: 5, duration: '15m' } });
 * logins.on('threat', (threat) => log.warn(threat, 'login attack'));
 * const decision = logins.check(username, ip);
 * if (!decision.allowed) return reply(429);
 * const ok = await verifyPassword(username, password);
 * logins.record({ userId: username, ip, success: ok, reason: ok ? undefined : 'bad-password' });
 * ```
 */
export class LoginAnalytics extends Emitter<LoginAnalyticsEvents> {
  readonly #options: ResolvedLoginOptions;
  readonly #clock: Clock;
  readonly #accounts: RecencyMap<AccountState>;
  readonly #addresses: RecencyMap<AddressState>;
  readonly #pairs: RecencyMap<PairState> | undefined;
  readonly #deployment: Deployment;
  readonly #threats = new Map<string, WindowCounter>();
  readonly #addressAccounts: number;

  constructor(options: LoginAnalyticsOptions = {}) {
    super();
    const resolved = resolveLoginOptions(options);
    this.#options = resolved;
    this.#clock = resolved.clock;
    const { windowMs, maxAccounts, maxAddresses } = resolved;
    this.#accounts = new RecencyMap(maxAccounts, windowMs);
    this.#addresses = new RecencyMap(maxAddresses, windowMs);
    this.#pairs =
      resolved.lockout?.scope === 'account-address'
        ? new RecencyMap(maxAccounts * 2, windowMs)
        : undefined;
    this.#deployment = {
      attempts: new WindowCounter(windowMs),
      failures: new WindowCounter(windowMs),
      failingAccounts: new RecencyMap(maxAccounts, windowMs),
      failingAddresses: new RecencyMap(maxAddresses, windowMs),
      stuffing: { active: false, lastThreatAt: Number.NEGATIVE_INFINITY },
    };
    // An address is remembered with enough accounts to see spraying, and at least a few for stats.
    this.#addressAccounts = Math.max(32, (resolved.spraying?.accounts ?? 0) * 2);
  }

  /** The sliding window of the detectors and stats, in milliseconds. */
  get windowMs(): number {
    return this.#options.windowMs;
  }

  /**
   * Records one attempt and runs the detectors on it; returns the threats it revealed (also
   * emitted as `threat`). A missing `userId` or `ip` is a SecurityConfigError naming the field.
   * An attempt with `reason: 'locked'` (refused by `check()`) feeds the detectors and figures, not
   * the consecutive failures of the lockout.
   */
  record(attempt: LoginAttempt): readonly ThreatEvent[] {
    const { userId, ip, success, at } = this.#validate(attempt);
    const dep = this.#deployment;
    dep.attempts.add(at);
    const userKey = stateKey(userId);
    const ipKey = stateKey(ip);
    if (success) {
      onSuccess(this.#accounts.peek(userKey), this.#pairs?.peek(pairKey(userKey, ipKey)));
      this.emit('attempt', { ...attempt, at });
      return [];
    }
    dep.failures.add(at);
    dep.failingAccounts.touch(userKey, at, () => true);
    dep.failingAddresses.touch(ipKey, at, () => true);
    const { windowMs } = this.#options;
    const account = this.#accounts.touch(userKey, at, () => newAccount(windowMs));
    account.failures.add(at);
    account.addresses.touch(ipKey, at, () => ({ failures: 0 })).failures++;
    const address = this.#addresses.touch(ipKey, at, () =>
      newAddress(windowMs, this.#addressAccounts),
    );
    address.failures.add(at);
    address.accounts.touch(userKey, at, () => true);
    const pair = this.#pairs?.touch(pairKey(userKey, ipKey), at, newPair);
    const lockouts = onFailure(
      this.#options,
      { account, address, pair },
      { userId, ip },
      at,
      attempt.reason !== 'locked',
    );
    for (const lockout of lockouts) {
      if (lockout.scope === 'address') this.#addresses.keepUntil(ipKey, lockout.until);
      else if (lockout.scope === 'account') this.#accounts.keepUntil(userKey, lockout.until);
      else this.#pairs?.keepUntil(pairKey(userKey, ipKey), lockout.until);
      this.emit('lockout', lockout);
    }
    const found = [
      detectBruteForce(this.#options, userId, account, at),
      detectSpraying(this.#options, ip, address, at),
      detectStuffing(this.#options, dep, at),
    ];
    this.#prune(at);
    this.emit('attempt', { ...attempt, at });
    const threats: ThreatEvent[] = [];
    for (const threat of found) if (threat !== undefined) threats.push(this.#found(threat));
    return threats;
  }

  /**
   * Whether `userId` may try a password from `ip` now, and after what wait: refused while the
   * account (or the account from this address, or the address) is locked; `delayMs` is the
   * progressive delay. Always allowed without a `lockout` or `delay` option.
   */
  check(userId: string, ip: string): LoginCheck {
    const userKey = stateKey(nonEmptyString(userId, 'userId'));
    const ipKey = stateKey(nonEmptyString(ip, 'ip'));
    return decide(
      this.#options,
      this.#accounts.peek(userKey),
      this.#addresses.peek(ipKey),
      this.#pairs?.peek(pairKey(userKey, ipKey)),
      this.#clock.epochNow(),
    );
  }

  /** Lifts the lockouts and forgets the consecutive failures of `userId` (every address). */
  unlock(userId: string): void {
    const userKey = stateKey(nonEmptyString(userId, 'userId'));
    onSuccess(this.#accounts.peek(userKey), undefined);
    if (this.#pairs === undefined) return;
    const prefix = pairKey(userKey, '');
    for (const [key, pair] of this.#pairs.entries()) {
      if (key.startsWith(prefix)) onSuccess(undefined, pair);
    }
  }

  /** Lifts the lockout of the address `ip`. */
  unlockAddress(ip: string): void {
    const address = this.#addresses.peek(stateKey(nonEmptyString(ip, 'ip')));
    if (address !== undefined) address.lockedUntil = 0;
  }

  /** The figures of the window ending now: attempts, failures, success rate, top offenders. */
  stats(): LoginStats {
    const now = this.#clock.epochNow();
    this.#prune(now);
    stuffingFigures(this.#options, this.#deployment, now);
    return loginStats({
      now,
      windowMs: this.#options.windowMs,
      top: this.#options.top,
      accounts: this.#accounts,
      addresses: this.#addresses,
      pairs: this.#pairs,
      deployment: this.#deployment,
      threats: this.#threats,
    });
  }

  /**
   * Wraps a login function: checks the policy first (refusing with a SecurityRefusalError 429
   * while locked, waiting out the progressive delay), then records the attempt as a success or a
   * failure from what the function returned or threw. See {@link wrapLogin}.
   */
  wrapLogin<A extends unknown[], R>(
    fn: (...args: A) => R,
    extract: (...args: A) => { userId: string; ip: string },
    options?: WrapLoginOptions<Awaited<R>>,
  ): (...args: A) => Promise<Awaited<R>> {
    return wrapLogin(this, fn, extract, options);
  }

  /** Forgets everything recorded (not the options). */
  clear(): void {
    this.#accounts.clear();
    this.#addresses.clear();
    this.#pairs?.clear();
    const dep = this.#deployment;
    const windowMs = this.#options.windowMs;
    dep.attempts = new WindowCounter(windowMs);
    dep.failures = new WindowCounter(windowMs);
    dep.failingAccounts.clear();
    dep.failingAddresses.clear();
    dep.stuffing = { active: false, lastThreatAt: Number.NEGATIVE_INFINITY };
    this.#threats.clear();
  }

  #found(threat: ThreatEvent): ThreatEvent {
    let counter = this.#threats.get(threat.category);
    if (counter === undefined) {
      counter = new WindowCounter(this.#options.windowMs);
      this.#threats.set(threat.category, counter);
    }
    counter.add(threat.at);
    this.emit('threat', threat);
    return threat;
  }

  #prune(now: number): void {
    this.#accounts.prune(now);
    this.#addresses.prune(now);
    this.#pairs?.prune(now);
  }

  #validate(attempt: LoginAttempt): { userId: string; ip: string; success: boolean; at: number } {
    const given = (attempt ?? {}) as Partial<LoginAttempt>;
    const userId = nonEmptyString(given.userId, 'userId');
    const ip = nonEmptyString(given.ip, 'ip');
    if (typeof given.success !== 'boolean') {
      throw new SecurityConfigError(
        `success=${describeValue(given.success)} is invalid: expected true or false`,
        { field: 'success', value: given.success, expected: 'a boolean' },
      );
    }
    const at = given.at ?? this.#clock.epochNow();
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      throw new SecurityConfigError(
        `at=${describeValue(at)} is invalid: expected epoch milliseconds`,
        {
          field: 'at',
          value: at,
          expected: 'epoch milliseconds',
        },
      );
    }
    return { userId, ip, success: given.success, at };
  }
}

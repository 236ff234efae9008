import type { AccountState, AddressState, PairState } from './login-state.js';
import type { ResolvedLoginOptions } from './options.js';

/**
 * What `check(userId, ip)` answers before a password is verified: refused while locked (then
 * `lockedUntil` says until when), and how long to wait first under the progressive delay.
 *
 * @example
 * ```ts
 * const { allowed, delayMs, lockedUntil } = logins.check('alice', '203.0.113.7');
 * if (!allowed) return reply(429, { retryAt: lockedUntil });
 * if (delayMs > 0) await sleep(delayMs);
 * ```
 */
export interface LoginCheck {
  allowed: boolean;
  /** Milliseconds to wait before verifying (until the lockout ends when refused); 0 for none. */
  delayMs: number;
  /** Epoch milliseconds at which the lockout ends, when refused. */
  lockedUntil?: number;
  /** What is locked, when refused. */
  locked?: 'account' | 'account-address' | 'address';
}

/**
 * A lockout that started: the account (for every address or for one), or an address.
 *
 * @example
 * ```ts
 * logins.on('lockout', (e) => log.warn(e, `locked ${e.scope} until ${new Date(e.until).toISOString()}`));
 * ```
 */
export interface LockoutEvent {
  scope: 'account' | 'account-address' | 'address';
  userId?: string;
  ip: string;
  /** Epoch milliseconds. */
  until: number;
  /** Consecutive failures (account scopes) or failures in the window (address) that locked it. */
  failures: number;
}

const ALLOWED: LoginCheck = Object.freeze({ allowed: true, delayMs: 0 });

/** @internal The decision of `check()` from the entries of the account, address and pair. */
export function decide(
  options: ResolvedLoginOptions,
  account: AccountState | undefined,
  address: AddressState | undefined,
  pair: PairState | undefined,
  now: number,
): LoginCheck {
  const lockout = options.lockout;
  if (lockout !== undefined) {
    let until = 0;
    let locked: LoginCheck['locked'];
    if (address !== undefined && address.lockedUntil > now) {
      until = address.lockedUntil;
      locked = 'address';
    }
    const own = lockout.scope === 'account' ? account : pair;
    if (own !== undefined && own.lockedUntil > now && own.lockedUntil > until) {
      until = own.lockedUntil;
      locked = lockout.scope;
    }
    if (locked !== undefined) {
      return { allowed: false, delayMs: Math.ceil(until - now), lockedUntil: until, locked };
    }
  }
  const delay = options.delay;
  if (delay === undefined || account === undefined) return ALLOWED;
  const over = account.consecutive - delay.afterFailures;
  if (over < 0) return ALLOWED;
  const wait = Math.min(delay.maxMs, delay.baseMs * 2 ** Math.min(over, 52));
  const delayMs = Math.max(0, Math.ceil(account.lastFailureAt + wait - now));
  return delayMs === 0 ? ALLOWED : { allowed: true, delayMs };
}

/**
 * @internal Counts a failure against the account (and pair) and locks what crossed its
 * threshold. `counted` is false for an attempt refused while locked: it feeds the detectors, not
 * the consecutive failures (so a lockout does not prolong itself).
 */
export function onFailure(
  options: ResolvedLoginOptions,
  entries: { account: AccountState; address: AddressState; pair: PairState | undefined },
  who: { userId: string; ip: string },
  at: number,
  counted: boolean,
): LockoutEvent[] {
  const { account, address, pair } = entries;
  if (counted) {
    account.consecutive++;
    if (pair !== undefined) pair.consecutive++;
  }
  account.lastFailureAt = Math.max(account.lastFailureAt, at);
  const lockout = options.lockout;
  if (lockout === undefined) return [];
  const events: LockoutEvent[] = [];
  const own = lockout.scope === 'account' ? account : pair;
  if (own !== undefined && own.consecutive >= lockout.failures && own.lockedUntil <= at) {
    own.lockedUntil = at + lockDuration(lockout, own.lockouts++);
    events.push({
      scope: lockout.scope,
      userId: who.userId,
      ip: who.ip,
      until: own.lockedUntil,
      failures: own.consecutive,
    });
    // The next lockout comes after as many failures again, and lasts twice as long.
    own.consecutive = 0;
  }
  const inWindow = address.failures.total(at);
  if (inWindow >= lockout.addressFailures && address.lockedUntil <= at) {
    address.lockedUntil = at + lockDuration(lockout, address.lockouts++);
    events.push({ scope: 'address', ip: who.ip, until: address.lockedUntil, failures: inWindow });
  }
  return events;
}

/** @internal A success clears the account's and the pair's failures and lockouts. */
export function onSuccess(account: AccountState | undefined, pair: PairState | undefined): void {
  for (const entry of [account, pair]) {
    if (entry === undefined) continue;
    entry.consecutive = 0;
    entry.lockedUntil = 0;
    entry.lockouts = 0;
  }
}

function lockDuration(
  lockout: NonNullable<ResolvedLoginOptions['lockout']>,
  previous: number,
): number {
  return Math.min(lockout.maxDurationMs, lockout.durationMs * 2 ** Math.min(previous, 30));
}

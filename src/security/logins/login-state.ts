import { createHash } from 'node:crypto';
import { RecencyMap } from './recency-map.js';
import { WindowCounter } from './window-counter.js';

/** Addresses remembered per account, to name the one a brute force comes from most. */
const ADDRESSES_PER_ACCOUNT = 16;

/** @internal What the analytics keep about an account that failed recently. */
export interface AccountState {
  failures: WindowCounter;
  /** Recent failing addresses and their failures on this account. */
  addresses: RecencyMap<{ failures: number }>;
  /** Failures since the last success, `locked` attempts left out. */
  consecutive: number;
  lastFailureAt: number;
  lockedUntil: number;
  lockouts: number;
  lastThreatAt: number;
}

/** @internal What the analytics keep about an address that failed recently. */
export interface AddressState {
  failures: WindowCounter;
  /** Accounts this address failed on in the window. */
  accounts: RecencyMap<true>;
  lockedUntil: number;
  lockouts: number;
  lastThreatAt: number;
}

/** @internal One account from one address, for the `account-address` lockout. */
export interface PairState {
  consecutive: number;
  lockedUntil: number;
  lockouts: number;
}

/** @internal A new account entry. */
export function newAccount(windowMs: number): AccountState {
  return {
    failures: new WindowCounter(windowMs),
    addresses: new RecencyMap(ADDRESSES_PER_ACCOUNT, windowMs),
    consecutive: 0,
    lastFailureAt: Number.NEGATIVE_INFINITY,
    lockedUntil: 0,
    lockouts: 0,
    lastThreatAt: Number.NEGATIVE_INFINITY,
  };
}

/** @internal A new address entry remembering up to `accounts` accounts. */
export function newAddress(windowMs: number, accounts: number): AddressState {
  return {
    failures: new WindowCounter(windowMs),
    accounts: new RecencyMap(accounts, windowMs),
    lockedUntil: 0,
    lockouts: 0,
    lastThreatAt: Number.NEGATIVE_INFINITY,
  };
}

/** @internal A new account-and-address entry. */
export function newPair(): PairState {
  return { consecutive: 0, lockedUntil: 0, lockouts: 0 };
}

const LONGEST_KEY = 128;

/**
 * @internal The key a user id or address is kept under: itself, or for one longer than 128
 * characters its first 64 and a hash of the whole, so that what an attacker types cannot make the
 * analytics hold megabytes per entry.
 *
 * @example
 * ```ts
 * stateKey('alice@example.com'); // 'alice@example.com'
 * ```
 */
export function stateKey(value: string): string {
  if (value.length <= LONGEST_KEY) return value;
  const digest = createHash('sha256').update(value).digest('base64url').slice(0, 22);
  return `${value.slice(0, 64)}…#${digest}`;
}

/** @internal The key of one account from one address. */
export function pairKey(userKey: string, ipKey: string): string {
  return `${userKey}\u0000${ipKey}`;
}

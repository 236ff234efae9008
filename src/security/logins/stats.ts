import type { Deployment } from './detectors.js';
import type { AccountState, AddressState, PairState } from './login-state.js';
import type { RecencyMap } from './recency-map.js';
import type { WindowCounter } from './window-counter.js';

/**
 * The figures of one window of login attempts, from {@link LoginAnalytics.stats}.
 *
 * @example
 * ```ts
 * const { failed, successRate, topAddresses } = logins.stats();
 * ```
 */
export interface LoginStats {
  windowMs: number;
  /** Epoch milliseconds: the window is `[from, to]`. */
  from: number;
  to: number;
  attempts: number;
  failed: number;
  succeeded: number;
  /** `succeeded / attempts`; 1 when there were none. */
  successRate: number;
  /** Distinct accounts and addresses with a failure in the window. */
  failingAccounts: number;
  failingAddresses: number;
  /** Accounts with the most failures in the window, most first. */
  topAccounts: { userId: string; failures: number; addresses: number; lockedUntil?: number }[];
  /** Addresses with the most failures in the window, most first. */
  topAddresses: { ip: string; failures: number; accounts: number; lockedUntil?: number }[];
  /** Threats reported in the window, by category. */
  threats: Record<string, number>;
  /** Whether the credential-stuffing condition holds now. */
  stuffing: boolean;
  /** Lockouts in force: accounts (scope `account`), account-address pairs, addresses. */
  locked: { accounts: number; pairs: number; addresses: number };
}

/** @internal What {@link loginStats} reads. */
export interface StatsSources {
  now: number;
  windowMs: number;
  top: number;
  accounts: RecencyMap<AccountState>;
  addresses: RecencyMap<AddressState>;
  pairs: RecencyMap<PairState> | undefined;
  deployment: Deployment;
  threats: ReadonlyMap<string, WindowCounter>;
}

/** @internal The {@link LoginStats} of the window ending at `now`. */
export function loginStats(sources: StatsSources): LoginStats {
  const { now, top, deployment } = sources;
  const attempts = deployment.attempts.total(now);
  const failed = Math.min(attempts, deployment.failures.total(now));
  deployment.failingAccounts.prune(now);
  deployment.failingAddresses.prune(now);
  const locked = { accounts: 0, pairs: 0, addresses: 0 };
  const accounts: LoginStats['topAccounts'] = [];
  for (const [userId, account] of sources.accounts.entries()) {
    if (account.lockedUntil > now) locked.accounts++;
    const failures = account.failures.total(now);
    if (failures === 0) continue;
    account.addresses.prune(now);
    accounts.push({
      userId,
      failures,
      addresses: account.addresses.size,
      ...(account.lockedUntil > now ? { lockedUntil: account.lockedUntil } : {}),
    });
  }
  const addresses: LoginStats['topAddresses'] = [];
  for (const [ip, address] of sources.addresses.entries()) {
    if (address.lockedUntil > now) locked.addresses++;
    const failures = address.failures.total(now);
    if (failures === 0) continue;
    address.accounts.prune(now);
    addresses.push({
      ip,
      failures,
      accounts: address.accounts.size,
      ...(address.lockedUntil > now ? { lockedUntil: address.lockedUntil } : {}),
    });
  }
  for (const [, pair] of sources.pairs?.entries() ?? []) if (pair.lockedUntil > now) locked.pairs++;
  const threats: Record<string, number> = {};
  for (const [category, counter] of sources.threats) {
    const count = counter.total(now);
    if (count > 0) threats[category] = count;
  }
  return {
    windowMs: sources.windowMs,
    from: now - sources.windowMs,
    to: now,
    attempts,
    failed,
    succeeded: attempts - failed,
    successRate: attempts === 0 ? 1 : (attempts - failed) / attempts,
    failingAccounts: deployment.failingAccounts.size,
    failingAddresses: deployment.failingAddresses.size,
    topAccounts: topBy(accounts, top),
    topAddresses: topBy(addresses, top),
    threats,
    stuffing: deployment.stuffing.active,
    locked,
  };
}

function topBy<T extends { failures: number }>(rows: T[], n: number): T[] {
  return rows.sort((a, b) => b.failures - a.failures).slice(0, n);
}

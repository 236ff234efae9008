import type { ThreatCategory, ThreatEvent } from '../types.js';
import type { AccountState, AddressState } from './login-state.js';
import type { ResolvedLoginOptions } from './options.js';
import type { RecencyMap } from './recency-map.js';
import type { WindowCounter } from './window-counter.js';

/**
 * @internal How sure a detector is: 0.5 at no evidence, 0.725 at its threshold, 0.95 at twice its
 * threshold and beyond.
 */
function confidence(count: number, threshold: number): number {
  return Math.round((0.5 + 0.45 * Math.min(1, count / (2 * threshold))) * 100) / 100;
}

function threat(
  category: ThreatCategory,
  client: string,
  evidence: string,
  certainty: number,
  at: number,
): ThreatEvent {
  return {
    category,
    confidence: certainty,
    rule: `logins.${category}`,
    client,
    location: 'logins',
    evidence: evidence.length > 100 ? `${evidence.slice(0, 99)}…` : evidence,
    blocked: false,
    at,
  };
}

/**
 * @internal Brute force: `bruteForce.failures` failures on one account in the window, from any
 * addresses. Held against the address that failed most on it; once per window per account.
 */
export function detectBruteForce(
  options: ResolvedLoginOptions,
  userId: string,
  account: AccountState,
  now: number,
): ThreatEvent | undefined {
  const rule = options.bruteForce;
  if (rule === undefined || now - account.lastThreatAt < options.windowMs) return undefined;
  const failures = account.failures.total(now);
  if (failures < rule.failures) return undefined;
  account.lastThreatAt = now;
  account.addresses.prune(now);
  let client = '';
  let most = -1;
  for (const [ip, seen] of account.addresses.entries()) {
    if (seen.failures >= most) {
      most = seen.failures;
      client = ip;
    }
  }
  const evidence = `failures=${failures} addresses=${account.addresses.size} account=${userId}`;
  return threat('brute-force', client, evidence, confidence(failures, rule.failures), now);
}

/**
 * @internal Password spraying: one address failing on `spraying.accounts` distinct accounts in the
 * window. Once per window per address.
 */
export function detectSpraying(
  options: ResolvedLoginOptions,
  ip: string,
  address: AddressState,
  now: number,
): ThreatEvent | undefined {
  const rule = options.spraying;
  if (rule === undefined || now - address.lastThreatAt < options.windowMs) return undefined;
  address.accounts.prune(now);
  const accounts = address.accounts.size;
  if (accounts < rule.accounts) return undefined;
  address.lastThreatAt = now;
  const evidence = `accounts=${accounts} failures=${address.failures.total(now)}`;
  return threat('password-spraying', ip, evidence, confidence(accounts, rule.accounts), now);
}

/** @internal The deployment-wide figures the stuffing detector reads. */
export interface Deployment {
  attempts: WindowCounter;
  failures: WindowCounter;
  failingAccounts: RecencyMap<true>;
  failingAddresses: RecencyMap<true>;
  /** Whether stuffing is going on, and when it was last reported. */
  stuffing: { active: boolean; lastThreatAt: number };
}

/**
 * @internal Credential stuffing: in the window, at least `stuffing.failures` failures from
 * `stuffing.addresses` distinct addresses on `stuffing.accounts` distinct accounts, while the
 * success rate is at most `stuffing.maxSuccessRate`. It belongs to no one client: the event's
 * client is `'*'`. Reported at most once per window while it goes on.
 */
export function detectStuffing(
  options: ResolvedLoginOptions,
  deployment: Deployment,
  now: number,
): ThreatEvent | undefined {
  const figures = stuffingFigures(options, deployment, now);
  const state = deployment.stuffing;
  if (figures === undefined || !state.active || now - state.lastThreatAt < options.windowMs) {
    return undefined;
  }
  state.lastThreatAt = now;
  const { failures, addresses, accounts, successRate } = figures;
  const evidence = `failures=${failures} addresses=${addresses} accounts=${accounts} success=${successRate.toFixed(3)}`;
  return threat(
    'credential-stuffing',
    '*',
    evidence,
    confidence(failures, options.stuffing!.failures),
    now,
  );
}

/**
 * @internal The deployment's figures of the window ending at `now`, and whether they meet the
 * stuffing condition (kept in `deployment.stuffing.active`); undefined when the detector is off.
 */
export function stuffingFigures(
  options: ResolvedLoginOptions,
  deployment: Deployment,
  now: number,
): { failures: number; addresses: number; accounts: number; successRate: number } | undefined {
  const rule = options.stuffing;
  if (rule === undefined) return undefined;
  const failures = deployment.failures.total(now);
  const attempts = deployment.attempts.total(now);
  deployment.failingAccounts.prune(now);
  deployment.failingAddresses.prune(now);
  const accounts = deployment.failingAccounts.size;
  const addresses = deployment.failingAddresses.size;
  const successRate = attempts === 0 ? 1 : Math.max(0, attempts - failures) / attempts;
  deployment.stuffing.active =
    failures >= rule.failures &&
    addresses >= rule.addresses &&
    accounts >= rule.accounts &&
    successRate <= rule.maxSuccessRate;
  return { failures, addresses, accounts, successRate };
}

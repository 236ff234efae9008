// What the security module tells its listeners and counts for the metrics.
import type { LimitChange } from './dynamic-limits.js';
import type { LockoutEvent } from './logins/policy.js';
import type { SecurityScoreEvent } from './score.js';
import type { Ban, ThreatEvent } from './types.js';

/**
 * The events of {@link Security}. Listeners that throw are reported, never reach the request.
 *
 * @example
 * ```ts
 * security.on('threat', (threat) => log.warn(threat, `${threat.category} from ${threat.client}`));
 * security.on('score-low', ({ score }) => pager.page(`security score ${score}`));
 * ```
 */
export type SecurityEvents = {
  /** A finding: screening, an auth burst, or a login attack (brute force, spraying, stuffing). */
  threat: [threat: ThreatEvent];
  /** A request refused over a rate limit. */
  'rate-limited': [event: { client: string; policy: string; retryAfterMs: number; at: number }];
  /** A limit multiplier changed: a client's with its risk, or everyone's with the service's pressure. */
  limits: [change: LimitChange];
  /** A login lockout. */
  lockout: [event: LockoutEvent];
  ban: [ban: Ban];
  unban: [event: { client: string; reason: 'manual' | 'expired' }];
  /** The score fell below its threshold (once per crossing). */
  'score-low': [event: SecurityScoreEvent];
  'score-recovered': [event: SecurityScoreEvent];
  /** A store (rate limits, bans) failed; decisions go on locally. Once per outage for rate limits. */
  'store-error': [
    event: { store: 'rate-limit' | 'bans'; policy?: string; error: unknown; at: number },
  ];
  'store-recovered': [event: { store: 'rate-limit'; policy: string; at: number; downMs: number }];
};

/** Counters since creation, for the metrics. */
export interface SecurityCounters {
  logins: number;
  failedLogins: number;
  bans: number;
  threats: Map<string, number>;
}

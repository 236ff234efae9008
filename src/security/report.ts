// What the security module shows: the report of `GET /security/monitoring` and the Prometheus
// families, both read from the module's parts without changing them.
import type { Clock } from '../core/clock.js';
import type { MetricFamily } from '../performance/prometheus.js';
import type { ClientRiskEntry } from './clients/client-risk.js';
import type { Clients } from './clients/clients.js';
import type { DynamicLimits, LimitChange } from './dynamic-limits.js';
import type { LoginAnalytics } from './logins/login-analytics.js';
import type { LoginStats } from './logins/stats.js';
import type { PolicyStats, RequestGate } from './request-gate.js';
import type { SecurityScoreResult } from './score.js';
import type { Ban, ThreatCategory } from './types.js';
import type { SecurityMinute, SecurityTotals, SecurityWindow } from './window.js';

/**
 * The security module's state, as `GET /security/monitoring` answers it.
 *
 * @example
 * ```ts
 * const report = enterprise.security.report();
 * console.log(report.score.score, report.threats.byCategory);
 * ```
 */
export interface SecurityReport {
  generatedAt: string;
  mode: 'detect' | 'block';
  score: SecurityScoreResult & { threshold: number; low: boolean };
  /** The window the score and the totals are over, in minutes. */
  windowMinutes: number;
  totals: SecurityTotals;
  threats: {
    byCategory: Partial<Record<ThreatCategory, number>>;
    /** Per minute over the last hour, oldest first. */
    series: SecurityMinute[];
  };
  clients: { tracked: number; suspicious: number; top: ClientRiskEntry[] };
  logins: LoginStats;
  rateLimits: {
    policies: PolicyStats[];
    /** The service's multiplier (1 unless under pressure) and why. */
    pressure: { multiplier: number; reason: string };
    /** Clients whose limits are tightened by their risk. */
    tightenedClients: number;
    /** The latest changes of multipliers, newest last. */
    changes: readonly LimitChange[];
  };
  bans: Ban[];
}

/**
 * What the report and the metrics read of the security module: the `Security` object is one.
 * Declared here rather than imported so that security.ts can build its report without an import
 * cycle.
 */
export interface ReportedSecurity {
  readonly mode: 'detect' | 'block';
  readonly clock: Clock;
  readonly window: SecurityWindow;
  readonly clients: Clients;
  readonly logins: LoginAnalytics;
  readonly gate: RequestGate;
  readonly dynamic: DynamicLimits;
  readonly scoreWindowMs: number;
  readonly suspiciousRisk: number;
  readonly lastScore: number | undefined;
  score(): SecurityScoreResult & { threshold: number; low: boolean };
  bans(): Ban[];
  counters(): {
    readonly logins: number;
    readonly failedLogins: number;
    readonly bans: number;
    readonly threats: ReadonlyMap<string, number>;
  };
}

/**
 * Builds the report of {@link SecurityReport} with the `top` riskiest clients (`security.report()`
 * calls it).
 *
 * @example
 * ```ts
 * const report = securityReport(security, 20);
 * ```
 */
export function securityReport(security: ReportedSecurity, top = 10): SecurityReport {
  const score = security.score();
  const windowMinutes = security.scoreWindowMs / 60_000;
  const totals = security.window.totals(security.scoreWindowMs);
  const summary = security.clients.risk.summary(security.suspiciousRisk);
  return {
    generatedAt: new Date(security.clock.epochNow()).toISOString(),
    mode: security.mode,
    score,
    windowMinutes,
    totals,
    threats: { byCategory: totals.threats, series: security.window.series(60 * 60_000) },
    clients: {
      tracked: summary.clients,
      suspicious: summary.above,
      top: security.clients.top(top),
    },
    logins: security.logins.stats(),
    rateLimits: {
      policies: security.gate.stats(),
      pressure: { multiplier: security.dynamic.service, reason: security.dynamic.serviceReason },
      tightenedClients: security.dynamic.tightened,
      changes: security.dynamic.recent(),
    },
    bans: security.bans(),
  };
}

/**
 * The Prometheus families of the security module, named with `prefix`: threats by category,
 * logins by outcome, rate-limit decisions by policy, refused requests by reason, bans made and in
 * force, the score. Declared (empty) before the module is built.
 */
export function securityMetricFamilies(
  prefix: string,
  security: ReportedSecurity | undefined,
): MetricFamily[] {
  const family = (
    name: string,
    help: string,
    type: MetricFamily['type'],
    samples: [Record<string, string>, number][] = [],
  ): MetricFamily => ({
    name: `${prefix}${name}`,
    help,
    type,
    samples: samples.map(([labels, value]) => ({ name: `${prefix}${name}`, labels, value })),
  });
  if (security === undefined) {
    return [
      family('security_threats_total', 'Threats detected, by category.', 'counter'),
      family('security_logins_total', 'Login attempts recorded, by outcome.', 'counter'),
      family(
        'security_rate_limit_decisions_total',
        'Rate-limit decisions, by policy and outcome.',
        'counter',
      ),
      family('security_bans_total', 'Bans made.', 'counter'),
      family('security_bans_active', 'Bans in force.', 'gauge'),
      family('security_score', 'The security score, 0 to 100.', 'gauge'),
    ];
  }
  const counters = security.counters();
  const policies = security.gate.stats();
  return [
    family(
      'security_threats_total',
      'Threats detected, by category.',
      'counter',
      [...counters.threats].map(([category, n]) => [{ category }, n]),
    ),
    family('security_logins_total', 'Login attempts recorded, by outcome.', 'counter', [
      [{ outcome: 'success' }, counters.logins - counters.failedLogins],
      [{ outcome: 'failure' }, counters.failedLogins],
    ]),
    family(
      'security_rate_limit_decisions_total',
      'Rate-limit decisions, by policy and outcome.',
      'counter',
      policies.flatMap((policy): [Record<string, string>, number][] => [
        [{ policy: policy.name, outcome: 'allowed' }, policy.allowed],
        [{ policy: policy.name, outcome: 'refused' }, policy.refused],
      ]),
    ),
    family('security_bans_total', 'Bans made.', 'counter', [[{}, counters.bans]]),
    family('security_bans_active', 'Bans in force.', 'gauge', [[{}, security.bans().length]]),
    family('security_score', 'The security score, 0 to 100.', 'gauge', [
      [{}, security.lastScore ?? security.score().score],
    ]),
  ];
}

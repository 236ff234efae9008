import { getHeapStatistics } from 'node:v8';
import type { Duration } from '../core/duration.js';
import { AlertRuleError } from './errors.js';
import type { AlertCondition, AlertRuleDefinition, AlertSeverity } from './types.js';

/**
 * What every built-in rule lets you change: how long its condition must hold, its severity, which
 * series it watches and the labels it adds.
 */
export interface BuiltinRuleTuning {
  /** The pending period. Each rule has its own default (see docs/alerts.md). */
  for?: Duration;
  severity?: AlertSeverity;
  /** Keeps only the series whose labels equal these, such as `{ operation: 'http.request' }`. */
  where?: Readonly<Record<string, string>>;
  /** Added to the rule's alerts (routing, silences). */
  labels?: Readonly<Record<string, string>>;
  /** How often the rule is evaluated. @defaultValue the module's `evaluationInterval` */
  interval?: Duration;
}

/** `SlowRequests`: an operation's p95 above the slow-call threshold. */
export interface SlowRequestsOptions extends BuiltinRuleTuning {
  /** @defaultValue the `alertThresholdMs` given to {@link builtinRules} */
  thresholdMs?: number;
}

/** `ErrorRateSpike`: an operation's error rate far above its baseline, and above a floor. */
export interface ErrorRateSpikeOptions extends BuiltinRuleTuning {
  /** An error rate at or below this never fires (0 to 1). @defaultValue 0.05 */
  floor?: number;
  /** Spreads above the baseline. @defaultValue 4 */
  sensitivity?: number;
}

/** `EventLoopBlocked`: the event loop's p99 delay above a bound. */
export interface EventLoopBlockedOptions extends BuiltinRuleTuning {
  /** @defaultValue 200 */
  thresholdMs?: number;
}

/** `MemoryExhaustionForecast`: resident memory predicted to reach a limit soon. */
export interface MemoryExhaustionOptions extends BuiltinRuleTuning {
  /** @defaultValue V8's `heap_size_limit` (`v8.getHeapStatistics()`), read when the rules are built */
  limitBytes?: number;
  /** How far ahead to look. @defaultValue '30m' */
  within?: Duration;
  /** The history the prediction is fitted on. @defaultValue '30m' */
  window?: Duration;
}

/** `TaskBacklogGrowing`: a queue's depth keeps rising. */
export interface TaskBacklogOptions extends BuiltinRuleTuning {
  /** Tasks per minute the depth must grow by. @defaultValue 1 */
  slopeAbove?: number;
  /** @defaultValue '15m' */
  window?: Duration;
}

/** `DeadLetterQueueGrowing`: dead letters keep arriving (trend), or too many of them (`above`). */
export interface DeadLettersOptions extends BuiltinRuleTuning {
  /** Dead letters per minute the queue must grow by. @defaultValue 0 (any sustained growth) */
  slopeAbove?: number;
  /** @defaultValue '30m' */
  window?: Duration;
  /** Fire on a count instead of a trend: more than this many dead letters in a queue. */
  above?: number;
}

/** `CacheHitRatioCollapse`: a namespace's or tier's hit ratio far below its baseline. */
export interface CacheHitRatioCollapseOptions extends BuiltinRuleTuning {
  /** Spreads below the baseline. @defaultValue 4 */
  sensitivity?: number;
  /** A hit ratio at or above this is never a collapse (0 to 1). @defaultValue 0.5 */
  floor?: number;
}

/** `SecurityScoreLow`: the security module's score below a threshold. */
export interface SecurityScoreLowOptions extends BuiltinRuleTuning {
  /** @defaultValue 70 (the security module's `score.threshold` when the composition wires it) */
  threshold?: number;
}

/**
 * Options of {@link builtinRules}: each rule is on unless switched off with `false`; an object
 * tunes it.
 *
 * @example
 * ```ts
 * builtinRules({ alertThresholdMs: 500, slowRequests: { for: '10m' }, cacheHitRatioCollapse: false });
 * ```
 */
export interface BuiltinRulesOptions {
  /**
   * The slow-call threshold of the performance monitor (`PERFORMANCE_ALERT_THRESHOLD_MS`,
   * `enterprise.performance.thresholdMs`), used by `SlowRequests`. @defaultValue 1000
   */
  alertThresholdMs?: number;
  /**
   * The names of the value sources that exist: a rule watching another is left out (no cache, no
   * cache rule). @defaultValue every rule is kept
   */
  sources?: Iterable<string>;
  slowRequests?: boolean | SlowRequestsOptions;
  errorRateSpike?: boolean | ErrorRateSpikeOptions;
  eventLoopBlocked?: boolean | EventLoopBlockedOptions;
  memoryExhaustion?: boolean | MemoryExhaustionOptions;
  taskBacklog?: boolean | TaskBacklogOptions;
  deadLetters?: boolean | DeadLettersOptions;
  cacheHitRatioCollapse?: boolean | CacheHitRatioCollapseOptions;
  healthDown?: boolean | BuiltinRuleTuning;
  healthDegraded?: boolean | BuiltinRuleTuning;
  circuitBreakerOpen?: boolean | BuiltinRuleTuning;
  securityScoreLow?: boolean | SecurityScoreLowOptions;
  securityStoreDown?: boolean | BuiltinRuleTuning;
}

/** The option that switches each built-in rule, and the rule's name. */
export const BUILTIN_RULES = {
  slowRequests: 'SlowRequests',
  errorRateSpike: 'ErrorRateSpike',
  eventLoopBlocked: 'EventLoopBlocked',
  memoryExhaustion: 'MemoryExhaustionForecast',
  taskBacklog: 'TaskBacklogGrowing',
  deadLetters: 'DeadLetterQueueGrowing',
  cacheHitRatioCollapse: 'CacheHitRatioCollapse',
  healthDown: 'HealthComponentDown',
  healthDegraded: 'HealthComponentDegraded',
  circuitBreakerOpen: 'CircuitBreakerOpen',
  securityScoreLow: 'SecurityScoreLow',
  securityStoreDown: 'SecurityStoreDown',
} as const satisfies Record<string, string>;

/** The option key of a built-in rule. */
export type BuiltinRuleKey = keyof typeof BUILTIN_RULES;

type Builder<O> = (options: O, all: BuiltinRulesOptions) => AlertRuleDefinition;

const BUILDERS: { [K in BuiltinRuleKey]: Builder<Tuning<K>> } = {
  slowRequests: (o, all) => {
    const threshold = positive(
      'slowRequests.thresholdMs',
      o.thresholdMs ?? all.alertThresholdMs ?? 1_000,
    );
    return rule('slowRequests', o, {
      watch: 'operation.p95',
      condition: { above: threshold },
      for: '5m',
      noData: 'ok',
      summary: `{{labels.operation}} p95 is {{value}} ms, above ${threshold} ms`,
    });
  },
  errorRateSpike: (o) =>
    rule('errorRateSpike', o, {
      watch: 'operation.error_rate',
      condition: {
        anomaly: {
          direction: 'up',
          sensitivity: positive('errorRateSpike.sensitivity', o.sensitivity ?? 4),
          floor: fraction('errorRateSpike.floor', o.floor ?? 0.05),
        },
      },
      for: '2m',
      severity: 'critical',
      noData: 'ok',
      summary:
        '{{labels.operation}} error rate {{value}} is far above its usual level ({{reason}})',
    }),
  eventLoopBlocked: (o) => {
    const threshold = positive('eventLoopBlocked.thresholdMs', o.thresholdMs ?? 200);
    return rule('eventLoopBlocked', o, {
      watch: 'system.event_loop_delay_p99_ms',
      condition: { above: threshold },
      for: '1m',
      summary: `Event loop delay p99 is {{value}} ms, above ${threshold} ms: something blocks it`,
    });
  },
  memoryExhaustion: (o) => {
    const limit = positive(
      'memoryExhaustion.limitBytes',
      o.limitBytes ?? getHeapStatistics().heap_size_limit,
    );
    const within = o.within ?? '30m';
    return rule('memoryExhaustion', o, {
      watch: 'system.rss_bytes',
      condition: { forecast: { threshold: limit, within, window: o.window ?? '30m' } },
      for: '5m',
      severity: 'critical',
      summary: `Resident memory ({{value}} bytes) is on course to reach ${limit} bytes within ${within} ({{reason}})`,
    });
  },
  taskBacklog: (o) =>
    rule('taskBacklog', o, {
      watch: 'tasks.queue_depth',
      condition: {
        trend: {
          window: o.window ?? '15m',
          slopeAbove: nonNegative('taskBacklog.slopeAbove', o.slopeAbove ?? 1),
        },
      },
      for: '10m',
      summary: 'Queue {{labels.queue}} keeps growing: {{value}} tasks waiting ({{reason}})',
    }),
  deadLetters: (o) =>
    rule('deadLetters', o, {
      watch: 'tasks.dead_letters',
      condition:
        o.above !== undefined
          ? { above: nonNegative('deadLetters.above', o.above) }
          : {
              trend: {
                window: o.window ?? '30m',
                slopeAbove: nonNegative('deadLetters.slopeAbove', o.slopeAbove ?? 0),
              },
            },
      for: '5m',
      summary: 'Dead letters of queue {{labels.queue}} keep piling up: {{value}} ({{reason}})',
    }),
  cacheHitRatioCollapse: (o) =>
    rule('cacheHitRatioCollapse', o, {
      watch: 'cache.hit_ratio',
      condition: {
        anomaly: {
          direction: 'down',
          sensitivity: positive('cacheHitRatioCollapse.sensitivity', o.sensitivity ?? 4),
          floor: fraction('cacheHitRatioCollapse.floor', o.floor ?? 0.5),
        },
      },
      for: '5m',
      noData: 'ok',
      summary: 'Cache hit ratio fell to {{value}}, far below its usual level ({{reason}})',
    }),
  healthDown: (o) =>
    rule('healthDown', o, {
      watch: 'health.status',
      condition: { above: 1.5 },
      for: '30s',
      severity: 'critical',
      summary: 'Health check {{labels.component}} is down',
    }),
  healthDegraded: (o) =>
    rule('healthDegraded', o, {
      watch: 'health.degraded',
      condition: { above: 0.5 },
      for: '2m',
      noData: 'ok',
      summary: 'Health check {{labels.component}} is degraded',
    }),
  // The source reads 2 for a breaker that opened since the last read, so an opening shorter than
  // the evaluation interval still fires once.
  circuitBreakerOpen: (o) =>
    rule('circuitBreakerOpen', o, {
      watch: 'circuit.state',
      condition: { above: 0.5 },
      noData: 'ok',
      summary:
        'Circuit breaker {{labels.breaker}} is open: calls to its dependency are rejected until a trial succeeds',
    }),
  securityScoreLow: (o) => {
    const threshold = checked(
      'securityScoreLow.threshold',
      o.threshold ?? 70,
      (n) => n >= 0 && n <= 100,
      'a score from 0 to 100',
    );
    return rule('securityScoreLow', o, {
      watch: 'security.score',
      condition: { below: threshold },
      for: '1m',
      severity: 'critical',
      noData: 'ok',
      summary: `Security score is {{value}}, below ${threshold}: an attack under way or a configuration gap`,
    });
  },
  // The security component is degraded (1), never down, while a rate-limit or ban store fails:
  // requests are still served (insurance limiter, local bans), which HealthComponentDown ignores.
  securityStoreDown: (o) =>
    rule('securityStoreDown', o, {
      watch: 'health.status',
      where: { component: 'security' },
      condition: { above: 0.5 },
      for: '1m',
      noData: 'ok',
      summary:
        'A security store (rate limits or bans) is failing: decisions are made locally on each instance',
    }),
};

type Tuning<K extends BuiltinRuleKey> = Exclude<NonNullable<BuiltinRulesOptions[K]>, boolean>;

/**
 * The package's ready-made rules over its own value sources: slow operations, error-rate spikes,
 * a blocked event loop, memory on course to run out, growing task backlogs and dead letter queues,
 * a collapsing cache hit ratio, health checks that are down or degraded, circuit breakers that
 * opened, a low security score and a failing security store. Every rule is on unless its option
 * is `false`; an object tunes it. The composition root passes `sources`, so only the rules whose
 * module exists are returned.
 *
 * @example
 * ```ts
 * const rules = builtinRules({
 *   alertThresholdMs: enterprise.performance.thresholdMs,
 *   memoryExhaustion: { limitBytes: 1.5e9 },
 *   deadLetters: { above: 10 },
 *   cacheHitRatioCollapse: false,
 * });
 * ```
 */
export function builtinRules(options: BuiltinRulesOptions = {}): AlertRuleDefinition[] {
  const available = options.sources === undefined ? undefined : new Set(options.sources);
  const rules: AlertRuleDefinition[] = [];
  for (const key of Object.keys(BUILTIN_RULES) as BuiltinRuleKey[]) {
    const setting = options[key];
    if (setting === false) continue;
    if (
      setting !== undefined &&
      setting !== true &&
      (typeof setting !== 'object' || setting === null)
    ) {
      throw new AlertRuleError(
        `built-in rule ${BUILTIN_RULES[key]}: ${key} must be true, false or an options object`,
        { rule: BUILTIN_RULES[key], field: key, value: setting },
      );
    }
    const tuning = (typeof setting === 'object' ? setting : {}) as Tuning<typeof key>;
    const built = (BUILDERS[key] as Builder<typeof tuning>)(tuning, options);
    if (available !== undefined && !available.has(built.watch as string)) continue;
    rules.push(built);
  }
  return rules;
}

/** A rule from its defaults and the user's tuning (which wins). */
function rule(
  key: BuiltinRuleKey,
  tuning: BuiltinRuleTuning,
  defaults: Omit<AlertRuleDefinition, 'name' | 'condition' | 'watch'> & {
    watch: string;
    condition: AlertCondition;
  },
): AlertRuleDefinition {
  const definition: AlertRuleDefinition = {
    severity: 'warning',
    ...defaults,
    name: BUILTIN_RULES[key],
  };
  if (tuning.for !== undefined) definition.for = tuning.for;
  if (tuning.severity !== undefined) definition.severity = tuning.severity;
  if (tuning.where !== undefined) definition.where = tuning.where;
  if (tuning.labels !== undefined) definition.labels = tuning.labels;
  if (tuning.interval !== undefined) definition.interval = tuning.interval;
  return definition;
}

function positive(field: string, value: unknown): number {
  return checked(field, value, (n) => n > 0, 'a positive number');
}

function nonNegative(field: string, value: unknown): number {
  return checked(field, value, (n) => n >= 0, 'a number of at least 0');
}

function fraction(field: string, value: unknown): number {
  return checked(field, value, (n) => n >= 0 && n <= 1, 'a number from 0 to 1');
}

function checked(
  field: string,
  value: unknown,
  ok: (n: number) => boolean,
  expected: string,
): number {
  if (typeof value === 'number' && Number.isFinite(value) && ok(value)) return value;
  const key = field.split('.')[0] as BuiltinRuleKey;
  const name = BUILTIN_RULES[key];
  throw new AlertRuleError(
    `built-in rule ${name}: ${field}=${String(value)} is invalid, expected ${expected}`,
    { rule: name, field, value },
  );
}

import type { Duration } from '../core/duration.js';
import { parseDuration } from '../core/duration.js';
import { describeValue } from '../core/errors.js';
import { AlertChannelError, AlertRuleError } from './errors.js';
import { compileMatchers, type LabelPredicate } from './matchers.js';
import type { AlertLabels, LabelMatcher } from './types.js';

/**
 * Who is told, and when, about the alerts a policy takes. Step `i` is notified `after` from the
 * start of the group's firing episode (and never before the group's `groupWait`), then repeated
 * every `repeat` until every firing alert of the group is acknowledged or resolved. The first
 * policy whose `matchers` all match an alert's labels takes it; alerts no policy takes go to the
 * default policy, which notifies every channel at once.
 *
 * @example
 * ```ts
 * const oncall: EscalationPolicy = {
 *   name: 'oncall',
 *   matchers: [{ name: 'severity', value: 'critical' }],
 *   steps: [
 *     { after: 0, channels: ['slack'] },
 *     { after: '15m', channels: ['pager'] },
 *   ],
 *   repeat: '1h',
 * };
 * ```
 */
export interface EscalationPolicy {
  /** Unique among the policies; notifications carry it in their group key. */
  name: string;
  /** Alerts whose labels match all of these take this policy. None: every alert. */
  matchers?: LabelMatcher[];
  /** At least one step; `after` grows from step to step. */
  steps: EscalationStep[];
  /** How often each notified step is repeated while unacknowledged. Default: the route's `repeatInterval`; 0 never repeats. */
  repeat?: Duration;
  /** Labels the policy's alerts are grouped by. Default: the route's `groupBy`. `['...']` groups by every label. */
  groupBy?: string[];
  /** Default: the route's `groupWait`. */
  groupWait?: Duration;
  /** Default: the route's `groupInterval`. */
  groupInterval?: Duration;
}

/** One escalation step: the channels told once `after` has passed in the episode. */
export interface EscalationStep {
  after: Duration;
  /** Names of channels given in `channels` or added with `alerts.channel()`. */
  channels: string[];
}

/** @internal The route defaults, in milliseconds. */
export interface ResolvedRoute {
  groupBy: readonly string[];
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

/** @internal A policy checked, its durations in milliseconds. `channels: 'all'` is the default policy's. */
export interface ResolvedPolicy {
  readonly name: string;
  readonly match: LabelPredicate;
  readonly steps: readonly { afterMs: number; channels: readonly string[] | 'all' }[];
  readonly repeatMs: number;
  /** `'all'`: every label (`['...']`). */
  readonly groupBy: readonly string[] | 'all';
  readonly groupWaitMs: number;
  readonly groupIntervalMs: number;
}

/** @internal The name of the policy that takes what no configured policy does. */
export const DEFAULT_POLICY = 'default';

/**
 * @internal Checks the policies against the channel names known at configuration and appends the
 * default policy. A step naming an unknown channel is an {@link AlertChannelError}; a bad
 * duration or matcher an {@link AlertRuleError} whose `field` is `policies[i]...`.
 *
 * @example
 * ```ts
 * const policies = resolvePolicies([oncall], new Set(['slack', 'pager']), route);
 * ```
 */
export function resolvePolicies(
  policies: readonly EscalationPolicy[],
  channels: ReadonlySet<string>,
  route: ResolvedRoute,
): ResolvedPolicy[] {
  if (!Array.isArray(policies)) {
    throw new AlertRuleError(`policies=${describeValue(policies)} is invalid: expected an array`, {
      rule: 'policies',
      field: 'policies',
      value: policies,
    });
  }
  const names = new Set<string>();
  const resolved: ResolvedPolicy[] = policies.map((policy, i): ResolvedPolicy => {
    const at = `policies[${i}]`;
    const fail = (field: string, value: unknown, expected: string): never => {
      throw new AlertRuleError(`${field}=${describeValue(value)} is invalid: ${expected}`, {
        rule: at,
        field,
        value,
      });
    };
    const duration = (field: string, value: unknown, fallback: number): number => {
      if (value === undefined) return fallback;
      try {
        return parseDuration(value, field);
      } catch {
        return fail(field, value, "expected a duration such as 30 (seconds), '5m', '1h'");
      }
    };
    if (policy === null || typeof policy !== 'object') fail(at, policy, 'expected an object');
    if (typeof policy.name !== 'string' || policy.name.length === 0) {
      fail(`${at}.name`, policy.name, 'expected a non-empty string');
    }
    if (names.has(policy.name) || policy.name === DEFAULT_POLICY) {
      fail(`${at}.name`, policy.name, 'expected a name no other policy has (and not "default")');
    }
    names.add(policy.name);
    const compiled = compileMatchers(policy.matchers ?? [], `${at}.matchers`);
    if (!('match' in compiled)) return fail(compiled.field, compiled.value, compiled.problem);
    if (!Array.isArray(policy.steps) || policy.steps.length === 0) {
      fail(`${at}.steps`, policy.steps, 'expected at least one step');
    }
    const steps = policy.steps.map((step: EscalationStep, s: number) => {
      const afterMs = duration(`${at}.steps[${s}].after`, step?.after, Number.NaN);
      if (Number.isNaN(afterMs))
        fail(`${at}.steps[${s}].after`, step?.after, 'expected a duration');
      const list = step.channels;
      if (!Array.isArray(list) || list.length === 0) {
        throw new AlertChannelError(
          `${at}.steps[${s}].channels=${describeValue(list)} is invalid: expected channel names`,
          { channel: '', field: `${at}.steps[${s}].channels`, value: list },
        );
      }
      for (const channel of list) {
        if (typeof channel !== 'string' || !channels.has(channel)) {
          throw new AlertChannelError(
            `${at}.steps[${s}].channels names ${describeValue(channel)}, which is no configured channel (known: ${[...channels].join(', ') || 'none'})`,
            { channel: String(channel), field: `${at}.steps[${s}].channels`, value: channel },
          );
        }
      }
      return { afterMs, channels: [...new Set(list)] };
    });
    for (let s = 1; s < steps.length; s++) {
      if (steps[s]!.afterMs < steps[s - 1]!.afterMs) {
        fail(
          `${at}.steps[${s}].after`,
          policy.steps[s]!.after,
          'expected no less than the step before',
        );
      }
    }
    return {
      name: policy.name,
      match: compiled.match,
      steps,
      repeatMs: duration(`${at}.repeat`, policy.repeat, route.repeatIntervalMs),
      groupBy: checkGroupBy(policy.groupBy ?? route.groupBy, `${at}.groupBy`, at),
      groupWaitMs: duration(`${at}.groupWait`, policy.groupWait, route.groupWaitMs),
      groupIntervalMs: duration(`${at}.groupInterval`, policy.groupInterval, route.groupIntervalMs),
    };
  });
  resolved.push({
    name: DEFAULT_POLICY,
    match: () => true,
    steps: [{ afterMs: 0, channels: 'all' }],
    repeatMs: route.repeatIntervalMs,
    groupBy: checkGroupBy(route.groupBy, 'route.groupBy', 'route'),
    groupWaitMs: route.groupWaitMs,
    groupIntervalMs: route.groupIntervalMs,
  });
  return resolved;
}

/** @internal The first policy whose matchers match `labels` (the default one last). */
export function choosePolicy(
  policies: readonly ResolvedPolicy[],
  labels: AlertLabels,
): ResolvedPolicy {
  for (const policy of policies) if (policy.match(labels)) return policy;
  return policies[policies.length - 1]!;
}

/** @internal Validates a `groupBy` list; `['...']` means every label. */
export function checkGroupBy(
  groupBy: unknown,
  field: string,
  rule: string,
): readonly string[] | 'all' {
  if (!Array.isArray(groupBy) || groupBy.some((l) => typeof l !== 'string' || l.length === 0)) {
    throw new AlertRuleError(
      `${field}=${describeValue(groupBy)} is invalid: expected label names`,
      {
        rule,
        field,
        value: groupBy,
      },
    );
  }
  if (groupBy.includes('...')) return 'all';
  return [...new Set(groupBy as string[])].sort();
}

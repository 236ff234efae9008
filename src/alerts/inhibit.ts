import { describeValue } from '../core/errors.js';
import { AlertRuleError } from './errors.js';
import { compileMatchers, type LabelPredicate } from './matchers.js';
import type { AlertLabels, LabelMatcher } from './types.js';

/**
 * Mutes alerts while a related, more important one fires, as Alertmanager's inhibit rules do: a
 * firing alert matching `sourceMatchers` mutes every alert matching `targetMatchers` that has the
 * same values for the `equal` labels (a label missing on both counts as equal). Muted alerts stay
 * listed, with `inhibitedBy`, and are not notified.
 *
 * @example
 * ```ts
 * // While a service is down, do not also page about its latency.
 * const rule: InhibitionRule = {
 *   sourceMatchers: [{ name: 'alertname', value: 'ServiceDown' }],
 *   targetMatchers: [{ name: 'alertname', op: '=~', value: 'HighLatency|HighErrorRate' }],
 *   equal: ['service'],
 * };
 * ```
 */
export interface InhibitionRule {
  sourceMatchers: LabelMatcher[];
  targetMatchers: LabelMatcher[];
  equal?: string[];
}

/** @internal An inhibition rule with its matchers compiled. */
export interface CompiledInhibition {
  source: LabelPredicate;
  target: LabelPredicate;
  equal: readonly string[];
}

/**
 * @internal Checks the rules; a problem is an {@link AlertRuleError} whose field is
 * `inhibitions[i].sourceMatchers[j].value` and so on.
 */
export function compileInhibitions(rules: readonly InhibitionRule[]): CompiledInhibition[] {
  if (!Array.isArray(rules)) {
    throw new AlertRuleError(`inhibitions=${describeValue(rules)} is invalid: expected an array`, {
      rule: 'inhibitions',
      field: 'inhibitions',
      value: rules,
    });
  }
  return rules.map((rule, i) => {
    const at = `inhibitions[${i}]`;
    const side = (name: 'sourceMatchers' | 'targetMatchers'): LabelPredicate => {
      const list = rule?.[name];
      const compiled =
        Array.isArray(list) && list.length === 0
          ? { field: `${at}.${name}`, value: list, problem: 'expected at least one matcher' }
          : compileMatchers(list, `${at}.${name}`);
      if ('match' in compiled) return compiled.match;
      throw new AlertRuleError(
        `${compiled.field}=${describeValue(compiled.value)} is invalid: ${compiled.problem}`,
        { rule: at, field: compiled.field, value: compiled.value },
      );
    };
    const equal = rule?.equal ?? [];
    if (!Array.isArray(equal) || equal.some((l) => typeof l !== 'string')) {
      throw new AlertRuleError(
        `${at}.equal=${describeValue(equal)} is invalid: expected label names`,
        {
          rule: at,
          field: `${at}.equal`,
          value: equal,
        },
      );
    }
    return { source: side('sourceMatchers'), target: side('targetMatchers'), equal: [...equal] };
  });
}

/** @internal What inhibition needs of an alert. */
export interface InhibitionCandidate {
  fingerprint: string;
  labels: AlertLabels;
  /** Only firing alerts inhibit. */
  firing: boolean;
}

/**
 * @internal For each inhibited alert, the fingerprints of the firing alerts that inhibit it. An
 * alert never inhibits itself, and two alerts that both match the source and the target side of
 * one rule do not inhibit each other (as in Alertmanager).
 */
export function inhibitedBy(
  alerts: readonly InhibitionCandidate[],
  rules: readonly CompiledInhibition[],
): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const rule of rules) {
    const sources = new Map<string, InhibitionCandidate[]>();
    for (const alert of alerts) {
      if (!alert.firing || !rule.source(alert.labels)) continue;
      const key = equalKey(alert.labels, rule.equal);
      const bucket = sources.get(key);
      if (bucket === undefined) sources.set(key, [alert]);
      else bucket.push(alert);
    }
    if (sources.size === 0) continue;
    for (const alert of alerts) {
      if (!rule.target(alert.labels)) continue;
      const bucket = sources.get(equalKey(alert.labels, rule.equal));
      if (bucket === undefined) continue;
      const twoSided = rule.source(alert.labels);
      for (const source of bucket) {
        if (source.fingerprint === alert.fingerprint) continue;
        if (twoSided && rule.target(source.labels)) continue;
        const list = result.get(alert.fingerprint);
        if (list === undefined) result.set(alert.fingerprint, [source.fingerprint]);
        else if (!list.includes(source.fingerprint)) list.push(source.fingerprint);
      }
    }
  }
  return result;
}

function equalKey(labels: AlertLabels, equal: readonly string[]): string {
  return JSON.stringify(equal.map((name) => labels[name] ?? ''));
}

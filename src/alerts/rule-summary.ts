import type { DeliveryLedger } from './delivery.js';
import type { RuleRuntime } from './series.js';
import type { AlertRuleDefinition, AlertState, ValueSource } from './types.js';

/**
 * One rule as `alerts.rules()` (and `GET /alerts/rules`) shows it: its definition, its source,
 * how many of its alerts are in each state, and how its last evaluation went.
 *
 * @example
 * ```ts
 * for (const rule of alerts.rules()) console.log(rule.name, rule.states.firing, rule.lastError ?? 'ok');
 * ```
 */
export interface AlertRuleSummary {
  name: string;
  /** The source's name, or `'function'`. */
  watch: string;
  /** The source's description, when it has one. */
  description?: string;
  definition: Readonly<AlertRuleDefinition>;
  /** How many of the rule's alerts are in each state. */
  states: Record<AlertState, number>;
  lastEvaluatedAt?: string;
  /** The last evaluation's read of the source (from the tick's start) plus the rule's own judging. */
  lastDurationMs?: number;
  /** Why the last read failed, when it did. */
  lastError?: string;
  /** Channels whose latest delivery of one of the rule's alerts failed, counted per alert. */
  deliveryFailures: number;
}

/** @internal The summary of one rule. */
export function ruleSummary(
  runtime: RuleRuntime,
  sources: ReadonlyMap<string, ValueSource>,
  ledger: DeliveryLedger,
): AlertRuleSummary {
  const { rule } = runtime;
  const states: Record<AlertState, number> = {
    inactive: 0,
    pending: 0,
    firing: 0,
    resolved: 0,
    nodata: 0,
    error: 0,
  };
  let deliveryFailures = 0;
  for (const series of runtime.series.values()) {
    states[series.state.state]++;
    for (const delivery of Object.values(ledger.deliveriesOf(series.fingerprint) ?? {})) {
      if (delivery.outcome === 'failure') deliveryFailures++;
    }
  }
  const description =
    typeof rule.watch === 'string' ? sources.get(rule.watch)?.description : undefined;
  const summary: AlertRuleSummary = {
    name: rule.name,
    watch: typeof rule.watch === 'string' ? rule.watch : 'function',
    definition: rule.definition,
    states,
    deliveryFailures,
  };
  if (description !== undefined) summary.description = description;
  if (runtime.lastEvaluatedAt !== undefined)
    summary.lastEvaluatedAt = new Date(runtime.lastEvaluatedAt).toISOString();
  if (runtime.lastDurationMs !== undefined) summary.lastDurationMs = runtime.lastDurationMs;
  if (runtime.lastError !== undefined) summary.lastError = runtime.lastError;
  return summary;
}

import type { MetricFamily } from '../performance/prometheus.js';
import type { DeliveryLedger } from './delivery.js';
import type { RuleRuntime } from './series.js';

/** @internal What the metric families are built from. */
export interface AlertsMetricsInput {
  rules: Iterable<RuleRuntime>;
  ledger: DeliveryLedger;
  evaluations: number;
  lastEvaluationMs: number | undefined;
  storeDown: boolean;
}

/**
 * @internal The module's metric families: `enterprise_alerts{alertname,severity,state}` (alerts
 * by state, inactive ones left out), `enterprise_alert_notifications_total{channel,kind,outcome}`
 * (`success`, `failure`, or `deduplicated` when another instance sent it), the duration of the
 * last evaluation, the evaluations run, and whether the shared store is reachable.
 */
export function alertsMetricFamilies(input: AlertsMetricsInput): MetricFamily[] {
  const alerts: MetricFamily = {
    name: 'enterprise_alerts',
    help: 'Alerts by rule, severity and state (inactive ones left out).',
    type: 'gauge',
    samples: [],
  };
  for (const runtime of input.rules) {
    const counts = new Map<string, number>();
    for (const series of runtime.series.values()) {
      const state = series.state.state;
      if (state !== 'inactive') counts.set(state, (counts.get(state) ?? 0) + 1);
    }
    for (const [state, value] of counts) {
      alerts.samples.push({
        name: alerts.name,
        labels: { alertname: runtime.rule.name, severity: runtime.rule.severity, state },
        value,
      });
    }
  }
  const notifications: MetricFamily = {
    name: 'enterprise_alert_notifications_total',
    help: 'Notifications by channel, kind and outcome (success, failure, deduplicated).',
    type: 'counter',
    samples: [],
  };
  for (const [key, value] of input.ledger.counts) {
    const [channel, kind, outcome] = JSON.parse(key) as [string, string, string];
    notifications.samples.push({
      name: notifications.name,
      labels: { channel, kind, outcome },
      value,
    });
  }
  const single = (
    name: string,
    help: string,
    type: 'gauge' | 'counter',
    value: number,
  ): MetricFamily => ({
    name,
    help,
    type,
    samples: [{ name, labels: {}, value }],
  });
  return [
    alerts,
    notifications,
    single(
      'enterprise_alerts_evaluation_duration_seconds',
      'Duration of the last evaluation of the alert rules in seconds.',
      'gauge',
      (input.lastEvaluationMs ?? 0) / 1000,
    ),
    single(
      'enterprise_alerts_evaluations_total',
      'Evaluations of the alert rules.',
      'counter',
      input.evaluations,
    ),
    single(
      'enterprise_alerts_store_up',
      'Whether the last call to the shared alert store succeeded (1) or failed (0).',
      'gauge',
      input.storeDown ? 0 : 1,
    ),
  ];
}

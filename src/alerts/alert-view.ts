import type { SeriesRuntime } from './evaluator.js';
import type { CompiledRule } from './rule.js';
import type { Alert, AlertDelivery, AlertLabels, AlertSeverity, AlertState } from './types.js';

/** @internal What the engine knows of an alert besides its series. */
export interface AlertExtras {
  acknowledged?: { by: string; at: string; comment?: string } | undefined;
  silencedBy?: readonly string[] | undefined;
  inhibitedBy?: readonly string[] | undefined;
  deliveries?: Readonly<Record<string, AlertDelivery>> | undefined;
}

/**
 * @internal The public view of one series: labels, state, evidence and the rendered summary and
 * annotations (`{{reason}}` is the detector's reason, the error, or `no data`).
 */
export function alertView(rule: CompiledRule, series: SeriesRuntime, extras: AlertExtras): Alert {
  const s = series.state;
  const reason =
    s.state === 'error' ? s.error : s.state === 'nodata' ? 'no data' : series.verdict?.reason;
  const context = {
    value: series.value,
    labels: series.labels,
    rule: rule.name,
    severity: rule.severity,
    reason,
  };
  const annotations: Record<string, string> = {};
  for (const [name, render] of Object.entries(rule.annotations))
    annotations[name] = render(context);
  if (rule.summary !== undefined) annotations.summary = rule.summary(context);
  const alert: Alert = {
    fingerprint: series.fingerprint,
    rule: rule.name,
    state: s.state,
    severity: rule.severity,
    labels: series.labels,
    annotations,
    value: series.value,
    lastEvaluatedAt: iso(series.lastEvaluatedAt),
  };
  if (series.verdict !== undefined) alert.verdict = series.verdict;
  if (s.activeAt !== undefined) alert.activeAt = iso(s.activeAt);
  if (s.firingAt !== undefined) alert.firingAt = iso(s.firingAt);
  if (s.resolvedAt !== undefined && s.state === 'resolved') alert.resolvedAt = iso(s.resolvedAt);
  if (s.error !== undefined) alert.error = s.error;
  if (extras.acknowledged !== undefined) alert.acknowledged = extras.acknowledged;
  if (extras.silencedBy !== undefined && extras.silencedBy.length > 0)
    alert.silencedBy = extras.silencedBy;
  if (extras.inhibitedBy !== undefined && extras.inhibitedBy.length > 0)
    alert.inhibitedBy = extras.inhibitedBy;
  if (extras.deliveries !== undefined) alert.deliveries = extras.deliveries;
  return alert;
}

/**
 * Narrows `alerts.list()`: by state (one or several; default every state but `inactive`), by
 * severity, and by label values (each given label equal).
 *
 * @example
 * ```ts
 * alerts.list({ state: 'firing', severity: 'critical', labels: { service: 'billing' } });
 * ```
 */
export interface AlertFilter {
  state?: AlertState | readonly AlertState[];
  severity?: AlertSeverity | readonly AlertSeverity[];
  labels?: AlertLabels;
}

const SEVERITY_ORDER: Record<AlertSeverity, number> = { critical: 0, warning: 1, info: 2 };
const STATE_ORDER: Record<AlertState, number> = {
  firing: 0,
  error: 1,
  nodata: 2,
  pending: 3,
  resolved: 4,
  inactive: 5,
};

/** @internal Applies `filter` and sorts: most severe first, then firing first, then by rule and labels. */
export function filterAlerts(alerts: Iterable<Alert>, filter: AlertFilter = {}): Alert[] {
  const states =
    filter.state === undefined
      ? undefined
      : new Set<AlertState>([filter.state].flat() as AlertState[]);
  const severities =
    filter.severity === undefined
      ? undefined
      : new Set<AlertSeverity>([filter.severity].flat() as AlertSeverity[]);
  const out: Alert[] = [];
  for (const alert of alerts) {
    if (states === undefined ? alert.state === 'inactive' : !states.has(alert.state)) continue;
    if (severities !== undefined && !severities.has(alert.severity)) continue;
    if (
      filter.labels !== undefined &&
      !Object.entries(filter.labels).every(([k, v]) => alert.labels[k] === v)
    ) {
      continue;
    }
    out.push(alert);
  }
  return out.sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      STATE_ORDER[a.state] - STATE_ORDER[b.state] ||
      a.rule.localeCompare(b.rule) ||
      a.fingerprint.localeCompare(b.fingerprint),
  );
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

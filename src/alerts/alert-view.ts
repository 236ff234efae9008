import { isoTime } from './iso-time.js';
import type { SeriesState } from './lifecycle.js';
import type { CompiledRule } from './rule.js';
import type {
  Alert,
  AlertDelivery,
  AlertLabels,
  AlertSeverity,
  AlertState,
  DetectorVerdict,
} from './types.js';

/** @internal What the engine knows of an alert besides its series. */
export interface AlertExtras {
  acknowledged?: { by: string; at: string; comment?: string } | undefined;
  silencedBy?: readonly string[] | undefined;
  inhibitedBy?: readonly string[] | undefined;
  deliveries?: Readonly<Record<string, AlertDelivery>> | undefined;
}

/** @internal Where one series stood when its view is built. */
export interface SeriesSnapshot {
  readonly fingerprint: string;
  readonly labels: AlertLabels;
  readonly state: SeriesState;
  readonly value: number | null;
  readonly verdict: DetectorVerdict | undefined;
  readonly lastEvaluatedAt: number;
}

/**
 * @internal The summary and annotations of one series as last rendered, with the value and
 * reason they were rendered for: the rest of what a template may name (labels, rule, severity)
 * does not change for a series.
 */
export interface RenderedAnnotations {
  value: number | null;
  reason: string | undefined;
  annotations: Readonly<Record<string, string>> | undefined;
}

/**
 * @internal The public view of one series: labels, state, evidence and the rendered summary and
 * annotations (`{{reason}}` is the detector's reason, the error, or `no data`). Given `rendered`,
 * the templates run only when the value or the reason differs from the last rendering.
 */
export function alertView(
  rule: CompiledRule,
  series: SeriesSnapshot,
  extras: AlertExtras,
  rendered?: RenderedAnnotations,
): Alert {
  const s = series.state;
  const reason =
    s.state === 'error' ? s.error : s.state === 'nodata' ? 'no data' : series.verdict?.reason;
  let annotations: Record<string, string>;
  if (
    rendered?.annotations !== undefined &&
    Object.is(rendered.value, series.value) &&
    rendered.reason === reason
  ) {
    annotations = { ...rendered.annotations };
  } else {
    annotations = renderAnnotations(rule, series, reason);
    if (rendered !== undefined) {
      rendered.value = series.value;
      rendered.reason = reason;
      rendered.annotations = { ...annotations };
    }
  }
  const alert: Alert = {
    fingerprint: series.fingerprint,
    rule: rule.name,
    state: s.state,
    severity: rule.severity,
    labels: series.labels,
    annotations,
    value: series.value,
    lastEvaluatedAt: isoTime(series.lastEvaluatedAt),
  };
  if (series.verdict !== undefined) alert.verdict = series.verdict;
  if (s.activeAt !== undefined) alert.activeAt = isoTime(s.activeAt);
  if (s.firingAt !== undefined) alert.firingAt = isoTime(s.firingAt);
  if (s.resolvedAt !== undefined && s.state === 'resolved')
    alert.resolvedAt = isoTime(s.resolvedAt);
  if (s.error !== undefined) alert.error = s.error;
  if (extras.acknowledged !== undefined) alert.acknowledged = extras.acknowledged;
  if (extras.silencedBy !== undefined && extras.silencedBy.length > 0)
    alert.silencedBy = extras.silencedBy;
  if (extras.inhibitedBy !== undefined && extras.inhibitedBy.length > 0)
    alert.inhibitedBy = extras.inhibitedBy;
  if (extras.deliveries !== undefined) alert.deliveries = extras.deliveries;
  return alert;
}

function renderAnnotations(
  rule: CompiledRule,
  series: SeriesSnapshot,
  reason: string | undefined,
): Record<string, string> {
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
  return annotations;
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

/** @internal Whether `filter` lists alerts in a state: by default every state but `inactive`. */
export function listedState(filter: AlertFilter = {}): (state: AlertState) => boolean {
  if (filter.state === undefined) return (state) => state !== 'inactive';
  const states = new Set<AlertState>([filter.state].flat() as AlertState[]);
  return (state) => states.has(state);
}

/** @internal Applies `filter` and sorts: most severe first, then firing first, then by rule and labels. */
export function filterAlerts(alerts: Iterable<Alert>, filter: AlertFilter = {}): Alert[] {
  const listed = listedState(filter);
  const severities =
    filter.severity === undefined
      ? undefined
      : new Set<AlertSeverity>([filter.severity].flat() as AlertSeverity[]);
  const out: Alert[] = [];
  for (const alert of alerts) {
    if (!listed(alert.state)) continue;
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

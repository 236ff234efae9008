import type { Alert, AlertLabels, AlertNotification } from '../types.js';

// The words every human-facing channel (Slack, email, the log) shows for a notification, so a
// firing alert reads the same wherever it lands. Each channel only lays these out in its format.

/** Colours by severity, and green for a resolved alert, as hex RGB. */
export const ALERT_COLOURS = {
  critical: '#d0021b',
  warning: '#f5a623',
  info: '#4a90e2',
  resolved: '#2eb67d',
} as const;

/** One alert, rendered to text. */
export interface RenderedAlert {
  /** `[CRITICAL] HighLatency FIRING`. */
  headline: string;
  /** The rule's summary annotation, else the detector's reason, else the error. */
  summary: string;
  /** `620`, `0.125`, `no data`. */
  value: string;
  /** The labels that tell this alert from its siblings (all but `alertname`), sorted by name. */
  labels: readonly (readonly [string, string])[];
  /** When the alert started firing, or resolved, when known (ISO 8601). */
  since?: string;
  /** Hex colour of its severity, or green once resolved. */
  colour: string;
}

/**
 * The text of one alert, shared by the channels that show alerts to people.
 *
 * @internal
 */
export function renderAlert(alert: Alert): RenderedAlert {
  const resolved = alert.state === 'resolved';
  const since = resolved ? alert.resolvedAt : (alert.firingAt ?? alert.activeAt);
  return {
    headline: `[${alert.severity.toUpperCase()}] ${alert.rule} ${alert.state.toUpperCase()}`,
    summary: alertSummary(alert),
    value: formatValue(alert.value),
    labels: visibleLabels(alert.labels),
    ...(since === undefined ? {} : { since }),
    colour: resolved ? ALERT_COLOURS.resolved : ALERT_COLOURS[alert.severity],
  };
}

/**
 * What happened, in one line: the summary annotation when the rule has one.
 *
 * @internal
 */
export function alertSummary(alert: Alert): string {
  return (
    alert.annotations.summary ??
    alert.annotations.description ??
    alert.verdict?.reason ??
    alert.error ??
    `${alert.rule} is ${alert.state}`
  );
}

/**
 * A value as people read it: at most six significant digits, `no data` for null.
 *
 * @internal
 */
export function formatValue(value: number | null): string {
  if (value === null) return 'no data';
  if (!Number.isFinite(value) || Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}

/**
 * The labels worth showing, sorted by name: all but `alertname` (the rule already names the alert).
 *
 * @internal
 */
export function visibleLabels(labels: AlertLabels): [string, string][] {
  return Object.entries(labels)
    .filter(([name]) => name !== 'alertname')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * `name=value, name=value`.
 *
 * @internal
 */
export function formatLabels(labels: RenderedAlert['labels']): string {
  return labels.map(([name, value]) => `${name}=${value}`).join(', ');
}

/**
 * The notification's title on a single line (a title must never break a subject header or a log
 * line).
 *
 * @internal
 */
export function notificationTitle(notification: AlertNotification): string {
  const title = notification.title.replace(/[\r\n]+/g, ' ').trim();
  if (title !== '') return title;
  const rules = [...new Set(notification.alerts.map((alert) => alert.rule))].join(', ');
  return `[${notification.kind.toUpperCase()}:${notification.alerts.length}] ${rules}`;
}

/**
 * The plain-text body of a notification: its title, then one paragraph per alert.
 *
 * @internal
 */
export function renderText(notification: AlertNotification): string {
  const lines = [notificationTitle(notification), ''];
  for (const alert of notification.alerts) {
    const rendered = renderAlert(alert);
    lines.push(rendered.headline, `  ${rendered.summary}`, `  value: ${rendered.value}`);
    if (rendered.labels.length > 0) lines.push(`  labels: ${formatLabels(rendered.labels)}`);
    if (rendered.since !== undefined) lines.push(`  since: ${rendered.since}`);
    lines.push('');
  }
  lines.push(`notification ${notification.id} (${notification.kind}, step ${notification.step})`);
  return lines.join('\n');
}

// The alerts on the real-time stream: a summary in each snapshot, and each transition as its own
// `event: alert`, sent when it happens.
import type { Alerts } from '../alerts/alerts.js';
import type { Alert, AlertSeverity, AlertState, AlertTransition } from '../alerts/types.js';
import type { MonitoredInstance } from './monitored-instance.js';
import type { RealtimeFeed } from './realtime-feed.js';

/**
 * The alerts part of a real-time snapshot: how many alerts are in each state, and how severe the
 * firing ones are.
 *
 * @example
 * ```ts
 * if (snapshot.alerts?.firingBySeverity.critical) page.title = `(${snapshot.alerts.byState.firing}) Monitoring`;
 * ```
 */
export interface AlertsSnapshot {
  /**
   * Whether the instance has built its alerts module. Monitoring never builds it: until then this
   * is `false` and every count is 0.
   */
  enabled: boolean;
  /** Alerts in every state but `inactive`. */
  total: number;
  byState: Record<Exclude<AlertState, 'inactive'>, number>;
  /** Firing alerts by severity (silenced ones included). */
  firingBySeverity: Record<AlertSeverity, number>;
  /** Alerts a silence mutes, whatever their state. */
  silenced: number;
  /** Pending or firing alerts someone acknowledged. */
  acknowledged: number;
}

/**
 * The data of an `event: alert` of the real-time stream: one state change of one alert, as
 * recorded in the history, and the alert as it is after it.
 *
 * @example
 * ```ts
 * // for each `event: alert` of the stream:
 * const { transition, alert } = JSON.parse(data) as AlertStreamEvent;
 * toast(`${transition.rule}: ${transition.from} -> ${transition.to}`, alert.annotations.summary);
 * ```
 */
export interface AlertStreamEvent {
  transition: AlertTransition;
  alert: Alert;
}

/** @internal The alerts part of a snapshot (`enabled: false` while the module is not built). */
export function toAlertsSnapshot(alerts: Alerts | undefined): AlertsSnapshot {
  const summary: AlertsSnapshot = {
    enabled: alerts !== undefined,
    total: 0,
    byState: { pending: 0, firing: 0, resolved: 0, nodata: 0, error: 0 },
    firingBySeverity: { critical: 0, warning: 0, info: 0 },
    silenced: 0,
    acknowledged: 0,
  };
  for (const alert of alerts?.list() ?? []) {
    if (alert.state === 'inactive') continue;
    summary.total++;
    summary.byState[alert.state]++;
    if (alert.state === 'firing') summary.firingBySeverity[alert.severity]++;
    if (alert.silencedBy !== undefined && alert.silencedBy.length > 0) summary.silenced++;
    if (
      alert.acknowledged !== undefined &&
      (alert.state === 'firing' || alert.state === 'pending')
    ) {
      summary.acknowledged++;
    }
  }
  return summary;
}

/**
 * @internal Listens to the transitions of the instance's alerts module while streams are open and
 * publishes each as `event: alert`. Attached when the first stream opens and at every tick (so a
 * module built after the stream opened is picked up), detached when the last stream closes: no
 * listener is left on the module when nobody watches.
 */
export class AlertFeed implements RealtimeFeed {
  readonly #enterprise: MonitoredInstance;
  #alerts: Alerts | undefined;
  #listener: ((transition: AlertTransition, alert: Alert) => void) | undefined;

  constructor(enterprise: MonitoredInstance) {
    this.#enterprise = enterprise;
  }

  attach(publish: (event: string, data: unknown) => void): void {
    const alerts = this.#enterprise.peek('alerts');
    if (alerts === this.#alerts) return;
    this.detach();
    if (alerts === undefined) return;
    const listener = (transition: AlertTransition, alert: Alert) => {
      const event: AlertStreamEvent = { transition, alert };
      publish('alert', event);
    };
    alerts.on('transition', listener);
    this.#alerts = alerts;
    this.#listener = listener;
  }

  detach(): void {
    if (this.#alerts !== undefined && this.#listener !== undefined) {
      this.#alerts.off('transition', this.#listener);
    }
    this.#alerts = undefined;
    this.#listener = undefined;
  }
}

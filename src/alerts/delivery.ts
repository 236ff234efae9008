import type { Logger } from '../core/logger.js';
import { rejectAfter } from '../core/timeout.js';
import { AlertChannelError } from './errors.js';
import { isoTime } from './iso-time.js';
import type { AlertChannel, AlertDelivery, AlertNotification, NotificationKind } from './types.js';

/**
 * Hands one notification for one channel to whatever delivers it. The engine calls it from
 * evaluation and never awaits it: a returned promise is only watched to count a failure. The
 * default is `(channel, notification) => alerts.send(channel, notification)`; a host that queues
 * deliveries (the task module, with retries and a dead letter queue) submits a task here and calls
 * `alerts.send()` from the task's handler, which records each attempt's outcome.
 *
 * @example
 * ```ts
 * const alerts = new Alerts({
 *   deliver: (channel, notification) => submitTask('alerts.deliver', { channel, notification }),
 * });
 * backgroundTask('alerts.deliver', ({ channel, notification }) => alerts.send(channel, notification));
 * ```
 */
export type AlertDeliver = (
  channel: string,
  notification: AlertNotification,
) => void | Promise<void>;

/** How one channel has done since the instance started. */
export interface AlertChannelStatus {
  name: string;
  sent: number;
  failed: number;
  lastSuccessAt?: string;
  lastFailureAt?: string;
  lastError?: string;
}

/** `outcome` label values of `enterprise_alert_notifications_total`. */
export type DeliveryOutcome = 'success' | 'failure' | 'deduplicated';

/**
 * @internal Counts deliveries by channel, kind and outcome, and keeps the latest outcome per
 * (alert, channel) for the alert list. Errors already counted are marked, so a failure that
 * reaches both `send` and the `deliver` hook's promise is counted once.
 */
export class DeliveryLedger {
  readonly counts = new Map<string, number>();
  readonly channels = new Map<string, AlertChannelStatus>();
  readonly #byAlert = new Map<string, Readonly<Record<string, AlertDelivery>>>();
  readonly #counted = new WeakSet<object>();

  constructor(private readonly epochNow: () => number) {}

  count(channel: string, kind: NotificationKind, outcome: DeliveryOutcome): void {
    const key = JSON.stringify([channel, kind, outcome]);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** A notification handed to `channel`: its alerts show it as pending. */
  handed(channel: string, notification: AlertNotification): void {
    const at = isoTime(this.epochNow());
    for (const alert of notification.alerts) {
      this.#record(alert.fingerprint, channel, {
        notification: notification.id,
        kind: notification.kind,
        outcome: 'pending',
        at,
      });
    }
  }

  /** Records how a delivery ended; false when this error was recorded already. */
  settled(channel: string, notification: AlertNotification, error?: unknown): boolean {
    if (error !== undefined && typeof error === 'object' && error !== null) {
      if (this.#counted.has(error)) return false;
      this.#counted.add(error);
    }
    const ok = error === undefined;
    this.count(channel, notification.kind, ok ? 'success' : 'failure');
    const now = isoTime(this.epochNow());
    const status = this.status(channel);
    if (ok) {
      status.sent++;
      status.lastSuccessAt = now;
    } else {
      status.failed++;
      status.lastFailureAt = now;
      status.lastError = message(error);
    }
    for (const alert of notification.alerts) {
      const previous = this.#byAlert.get(alert.fingerprint)?.[channel];
      // A later notification replaced this one's record: keep the newer.
      if (previous !== undefined && previous.notification !== notification.id) continue;
      this.#record(alert.fingerprint, channel, {
        notification: notification.id,
        kind: notification.kind,
        outcome: ok ? 'success' : 'failure',
        at: previous?.at ?? now,
        ...(ok ? {} : { error: message(error) }),
      });
    }
    return true;
  }

  /**
   * Sets the delivery of one alert on one channel in a new record of the alert's deliveries: a
   * record handed out (shown on a view) never changes, so views share it instead of copying it
   * at every tick.
   */
  #record(fingerprint: string, channel: string, delivery: AlertDelivery): void {
    const entry = this.#byAlert.get(fingerprint);
    this.#byAlert.set(fingerprint, { ...entry, [channel]: delivery });
  }

  status(channel: string): AlertChannelStatus {
    let status = this.channels.get(channel);
    if (status === undefined) {
      status = { name: channel, sent: 0, failed: 0 };
      this.channels.set(channel, status);
    }
    return status;
  }

  deliveriesOf(fingerprint: string): Readonly<Record<string, AlertDelivery>> | undefined {
    return this.#byAlert.get(fingerprint);
  }

  /** Calls `each` with every alert that has a delivery recorded, and its deliveries by channel. */
  forEachAlert(
    each: (deliveries: Readonly<Record<string, AlertDelivery>>, fingerprint: string) => void,
  ): void {
    this.#byAlert.forEach(each);
  }

  /** Forgets the alerts not in `keep` (gone from every rule and group). */
  prune(keep: (fingerprint: string) => boolean): void {
    for (const fingerprint of this.#byAlert.keys())
      if (!keep(fingerprint)) this.#byAlert.delete(fingerprint);
  }
}

/**
 * @internal Hands `notification` to the deliver hook without waiting: a synchronous throw or a
 * rejected promise counts as a failed delivery (once, even when `send` counted it already).
 */
export function handOver(
  deliver: AlertDeliver,
  channel: string,
  notification: AlertNotification,
  ledger: DeliveryLedger,
  log: Logger,
  inflight: Set<Promise<void>>,
): void {
  ledger.handed(channel, notification);
  const failed = (error: unknown) => {
    if (ledger.settled(channel, notification, error)) {
      log.warn(
        { channel, notification: notification.id, err: message(error) },
        'alert notification could not be handed over',
      );
    }
  };
  try {
    const result = deliver(channel, notification);
    if (result !== undefined && typeof (result as Promise<void>)?.then === 'function') {
      const watched = Promise.resolve(result).then(() => undefined, failed);
      inflight.add(watched);
      void watched.finally(() => inflight.delete(watched));
    }
  } catch (error) {
    failed(error);
  }
}

/**
 * @internal Sends on `channel` now with the delivery timeout and records the outcome; rethrows a
 * failure (logged once), so a task runner calling it retries.
 */
export async function sendNow(
  channel: AlertChannel | undefined,
  name: string,
  notification: AlertNotification,
  timeoutMs: number,
  ledger: DeliveryLedger,
  log: Logger,
): Promise<void> {
  try {
    if (channel === undefined) {
      throw new AlertChannelError(`no channel named "${name}"`, { channel: name });
    }
    await sendWithTimeout(channel, notification, timeoutMs);
    ledger.settled(name, notification);
  } catch (error) {
    if (ledger.settled(name, notification, error)) {
      log.warn(
        {
          channel: name,
          notification: notification.id,
          kind: notification.kind,
          err: message(error),
        },
        'alert notification failed',
      );
    }
    throw error;
  }
}

/**
 * @internal Calls `channel.send` with an `AbortSignal` that aborts after `timeoutMs`; rejects with
 * the channel's error or a timeout error.
 */
export async function sendWithTimeout(
  channel: AlertChannel,
  notification: AlertNotification,
  timeoutMs: number,
): Promise<void> {
  const controller = new AbortController();
  await rejectAfter(
    Promise.resolve().then(() => channel.send(notification, controller.signal)),
    timeoutMs,
    `channel "${channel.name}" did not answer within ${timeoutMs} ms`,
    () => controller.abort(new Error('delivery timed out')),
  );
}

/**
 * @internal The channel notifications go to when none is configured: one log line per
 * notification through the instance's logger, warn for firing, info otherwise.
 */
export function loggerChannel(logger: Logger): AlertChannel {
  return {
    name: 'log',
    async send(notification) {
      const fields = {
        notification: notification.id,
        kind: notification.kind,
        group: notification.group,
        step: notification.step,
        alerts: notification.alerts.map((a) => ({
          fingerprint: a.fingerprint,
          state: a.state,
          labels: a.labels,
          value: a.value,
          summary: a.annotations.summary,
        })),
      };
      if (notification.kind === 'firing' || notification.kind === 'repeat') {
        logger.warn(fields, notification.title);
      } else {
        logger.info(fields, notification.title);
      }
    },
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

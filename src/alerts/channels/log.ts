import type { Logger } from '../../core/logger.js';
import { AlertChannelError } from '../errors.js';
import type { AlertChannel, AlertNotification } from '../types.js';
import { checkName, throwIfAborted } from './checks.js';
import { notificationTitle, renderAlert } from './render.js';

/** Options of {@link logChannel}. */
export interface LogChannelOptions {
  /** The channel's name. Default `'log'`. */
  name?: string;
  /** Where the lines go: the instance's logger (or a child of it). */
  logger: Logger;
}

/**
 * A channel that writes one structured line per notification: at `warn` while alerts fire (or
 * repeat), at `info` when they resolve or are acknowledged. The message is the notification's
 * title; the fields carry its id, kind, group, step and, per alert, the rule, state, severity,
 * value, summary, labels and fingerprint, so log search finds an alert by any of them.
 *
 * @example
 * ```ts
 * const log = logChannel({ logger: enterprise.logger.child({ module: 'alerts' }) });
 * ```
 */
export function logChannel(options: LogChannelOptions): AlertChannel {
  const name = checkName(options.name ?? 'log');
  const logger = options.logger;
  if (typeof logger?.warn !== 'function' || typeof logger.info !== 'function') {
    throw new AlertChannelError(`channel "${name}": logger must have info() and warn()`, {
      channel: name,
      field: 'logger',
    });
  }
  return {
    name,
    async send(notification: AlertNotification, signal?: AbortSignal): Promise<void> {
      throwIfAborted(name, signal);
      const level =
        notification.kind === 'firing' || notification.kind === 'repeat' ? 'warn' : 'info';
      const fields = {
        channel: name,
        notification: notification.id,
        kind: notification.kind,
        group: notification.group,
        step: notification.step,
        alerts: notification.alerts.map((alert) => ({
          rule: alert.rule,
          state: alert.state,
          severity: alert.severity,
          value: alert.value,
          summary: renderAlert(alert).summary,
          labels: alert.labels,
          fingerprint: alert.fingerprint,
        })),
      };
      try {
        logger[level](fields, notificationTitle(notification));
      } catch (error) {
        throw new AlertChannelError(
          `channel "${name}": the logger threw: ${error instanceof Error ? error.message : String(error)}`,
          { channel: name },
          error,
        );
      }
    },
  };
}

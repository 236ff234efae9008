import { AlertChannelError } from '../errors.js';
import type { AlertChannel, AlertNotification } from '../types.js';
import { bounded, checkName, throwIfAborted } from './checks.js';

/** What {@link functionChannel} calls for each notification. */
export type AlertChannelFunction = (
  notification: AlertNotification,
  signal?: AbortSignal,
) => void | Promise<void>;

/**
 * A channel that hands each notification to a function: a pager client, a chat SDK, a queue. A
 * throw or rejection fails the delivery (to be retried) as an {@link AlertChannelError} whose
 * `cause` is what was thrown; an {@link AlertChannelError} thrown by the function passes through
 * unchanged. Nothing is called for an already-aborted signal, and an abort during the call rejects
 * at once, whether or not the function heeds the signal it is given.
 *
 * @example
 * ```ts
 * const pager = functionChannel('pager', async (notification, signal) => {
 *   await pagerClient.trigger({ dedupKey: notification.group, summary: notification.title }, { signal });
 * });
 * ```
 */
export function functionChannel(name: string, fn: AlertChannelFunction): AlertChannel {
  const channel = checkName(name);
  if (typeof fn !== 'function') {
    throw new AlertChannelError(`channel "${channel}": expected a function to call`, {
      channel,
      field: 'fn',
    });
  }
  return {
    name: channel,
    async send(notification: AlertNotification, signal?: AbortSignal): Promise<void> {
      throwIfAborted(channel, signal);
      try {
        // Raced with the signal: a function that ignores it still lets its caller go on abort.
        await bounded(channel, (async () => fn(notification, signal))(), { signal });
      } catch (error) {
        if (error instanceof AlertChannelError) throw error;
        throw new AlertChannelError(
          `channel "${channel}": ${error instanceof Error ? error.message : String(error)}`,
          { channel },
          error,
        );
      }
    },
  };
}

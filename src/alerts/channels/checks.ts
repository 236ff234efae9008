import { parseDuration } from '../../core/duration.js';
import { describeValue } from '../../core/errors.js';
import { AlertChannelError } from '../errors.js';

// Option checks and the abort check every channel shares; all failures are AlertChannelErrors.

/**
 * Validates a channel name: a non-empty string without surrounding blanks.
 *
 * @internal
 */
export function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '' || name.trim() !== name) {
    throw new AlertChannelError(
      `channel name ${describeValue(name)} is invalid: expected a non-empty string without surrounding spaces`,
      { channel: String(name), field: 'name', value: name },
    );
  }
  return name;
}

/**
 * Converts a channel's `timeout` option (seconds or a string with a unit) to milliseconds; it must
 * be positive.
 *
 * @internal
 */
export function checkTimeout(channel: string, value: unknown, fallbackSeconds: number): number {
  let ms: number | undefined;
  try {
    ms = parseDuration(value ?? fallbackSeconds, 'timeout');
  } catch {
    // Reported below as a channel error, like every other misconfiguration of a channel.
  }
  if (ms === undefined || ms <= 0) {
    throw new AlertChannelError(
      `channel "${channel}": timeout=${describeValue(value)} is invalid: expected a positive duration such as 10 (seconds) or '500ms'`,
      { channel, field: 'timeout', value },
    );
  }
  return ms;
}

/**
 * Throws when `signal` is already aborted, so nothing is sent for a delivery its caller gave up.
 *
 * @internal
 */
export function throwIfAborted(channel: string, signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(channel, signal);
}

/**
 * The error of a delivery abandoned because its caller aborted it; the abort reason is the cause.
 *
 * @internal
 */
export function abortedError(channel: string, signal: AbortSignal): AlertChannelError {
  return new AlertChannelError(
    `channel "${channel}": delivery aborted`,
    { channel, aborted: true },
    signal.reason,
  );
}

/**
 * Settles as `work` does, or rejects as soon as `signal` aborts ({@link abortedError}) or
 * `timeoutMs` passes (`context.timeoutMs`), for destinations whose client takes no signal. `work`
 * may still finish in the background; its late rejection is handled here.
 *
 * @internal
 */
export function bounded<T>(
  channel: string,
  work: Promise<T>,
  options: { signal?: AbortSignal; timeoutMs?: number },
): Promise<T> {
  const { signal, timeoutMs } = options;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => settle(() => reject(abortedError(channel, signal!)));
    const settle = (end: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      end();
    };
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        settle(() =>
          reject(
            new AlertChannelError(
              `channel "${channel}": delivery timed out after ${timeoutMs} ms`,
              {
                channel,
                timeoutMs,
              },
            ),
          ),
        );
      }, timeoutMs);
      timer.unref();
    }
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}

import type { Logger } from '../core/logger.js';

/**
 * @internal At most one log line a minute per message: a broken backend must not flood the logs
 * every second.
 */
export function throttledLog(log: Logger): (message: string, error: unknown) => void {
  const last = new Map<string, number>();
  return (message, error) => {
    const now = Date.now();
    const previous = last.get(message);
    if (previous !== undefined && now - previous < 60_000) return;
    last.set(message, now);
    log.warn({ err: error }, message);
  };
}

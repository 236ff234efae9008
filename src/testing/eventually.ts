import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` every 10 ms until it returns something truthy; throws after `timeoutMs`.
 *
 * @example
 * ```ts
 * await eventually(async () => (await backend.counts(queue)).completed === 10, 'ten completed');
 * ```
 */
export async function eventually<T>(
  check: () => Promise<T> | T,
  what: string,
  timeoutMs = 3_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

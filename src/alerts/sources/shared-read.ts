import type { Clock } from '../../core/clock.js';

/**
 * @internal One read of a module shared by the sources built from it: the sources of one module
 * (five `operation.*` sources, five `tasks.*` sources) are read one after the other at an
 * evaluation, and each would otherwise ask the module for the same figures again. Callers within
 * `reuseMs` of a read get its result; concurrent callers share the read in flight; a read that
 * fails is not kept, so the next caller tries again.
 *
 * @example
 * ```ts
 * const stats = sharedRead(() => tasks.stats(), 1_000, systemClock);
 * const [a, b] = await Promise.all([stats(), stats()]); // one call to tasks.stats()
 * ```
 */
export function sharedRead<T>(
  read: () => T | Promise<T>,
  reuseMs: number,
  clock: Pick<Clock, 'now'>,
): () => Promise<T> {
  let kept: { at: number; value: T } | undefined;
  let pending: Promise<T> | undefined;
  return () => {
    if (kept !== undefined && clock.now() - kept.at < reuseMs) return Promise.resolve(kept.value);
    if (pending !== undefined) return pending;
    const started = clock.now();
    const current = (async () => read())().then(
      (value) => {
        kept = { at: started, value };
        pending = undefined;
        return value;
      },
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    pending = current;
    return current;
  };
}

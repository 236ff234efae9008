import type { AlertState } from './types.js';

/**
 * @internal Where one series stands. Times are epoch milliseconds. `firingAt` survives a spell of
 * `nodata` or `error` that interrupts a firing episode (see {@link isFiringEpisode}): a source
 * that fails for a minute neither resolves the alert nor restarts its escalation.
 */
export interface SeriesState {
  readonly state: AlertState;
  /** The condition first held in this episode (pending since). */
  readonly activeAt?: number;
  readonly firingAt?: number;
  readonly resolvedAt?: number;
  /** The last evaluation at which the condition held, for `keepFiringFor`. */
  readonly lastBreachAt?: number;
  readonly error?: string;
}

/** @internal What one evaluation concluded about a series. */
export type LifecycleInput =
  | { kind: 'breach' }
  | { kind: 'clear' }
  | { kind: 'nodata' }
  | { kind: 'error'; message: string };

/** @internal A rule's timing, in milliseconds. */
export interface LifecycleTiming {
  forMs: number;
  keepFiringForMs: number;
}

/** How long a resolved alert stays listed as resolved (as in Prometheus) before it is inactive again. */
export const RESOLVED_RETENTION_MS = 15 * 60_000;

/** @internal The state of a series never seen breaching. */
export const INACTIVE: SeriesState = Object.freeze({ state: 'inactive' });

/**
 * @internal True while the series is in a firing episode: firing, or interrupted by no data or
 * an error after it fired. Notifications treat such an alert as still firing.
 */
export function isFiringEpisode(series: SeriesState): boolean {
  return (
    series.state === 'firing' ||
    ((series.state === 'nodata' || series.state === 'error') && series.firingAt !== undefined)
  );
}

/**
 * @internal One step of the lifecycle, pure: `inactive` → `pending` while the condition holds
 * for less than `for` → `firing` → `resolved` once it has stopped holding for `keepFiringFor`,
 * back to `pending` when it holds again, or to `inactive` after {@link RESOLVED_RETENTION_MS}. `nodata` and `error` are states of their own; a firing
 * episode they interrupt resumes (or resolves) when values come back, while a pending one starts
 * over. Returns the same object when nothing changed.
 *
 * @example
 * ```ts
 * let s = INACTIVE;
 * s = advance(s, { kind: 'breach' }, { forMs: 60_000, keepFiringForMs: 0 }, t0); // pending
 * s = advance(s, { kind: 'breach' }, { forMs: 60_000, keepFiringForMs: 0 }, t0 + 60_000); // firing
 * ```
 */
export function advance(
  previous: SeriesState,
  input: LifecycleInput,
  timing: LifecycleTiming,
  at: number,
): SeriesState {
  const episode = isFiringEpisode(previous);
  switch (input.kind) {
    case 'breach': {
      if (episode) {
        return {
          state: 'firing',
          activeAt: previous.activeAt ?? at,
          firingAt: previous.firingAt!,
          lastBreachAt: at,
        };
      }
      if (previous.state === 'pending') {
        const activeAt = previous.activeAt ?? at;
        if (at - activeAt >= timing.forMs) {
          return { state: 'firing', activeAt, firingAt: at, lastBreachAt: at };
        }
        return previous.lastBreachAt === at ? previous : { ...previous, lastBreachAt: at };
      }
      // inactive, resolved, or a nodata/error spell outside a firing episode: a new episode.
      if (timing.forMs <= 0)
        return { state: 'firing', activeAt: at, firingAt: at, lastBreachAt: at };
      return { state: 'pending', activeAt: at, lastBreachAt: at };
    }
    case 'clear': {
      if (episode) {
        const since = previous.lastBreachAt ?? previous.firingAt!;
        if (timing.keepFiringForMs > 0 && at - since < timing.keepFiringForMs) {
          if (previous.state === 'firing') return previous;
          return {
            state: 'firing',
            activeAt: previous.activeAt!,
            firingAt: previous.firingAt!,
            lastBreachAt: since,
          };
        }
        return {
          state: 'resolved',
          activeAt: previous.activeAt!,
          firingAt: previous.firingAt!,
          resolvedAt: at,
          lastBreachAt: since,
        };
      }
      if (previous.state === 'resolved') {
        const since = previous.resolvedAt ?? at;
        return at - since >= RESOLVED_RETENTION_MS ? INACTIVE : previous;
      }
      if (previous.state === 'inactive') return previous;
      return INACTIVE;
    }
    case 'nodata':
    case 'error': {
      const message = input.kind === 'error' ? input.message : undefined;
      if (previous.state === input.kind && previous.error === message) return previous;
      if (episode) {
        return {
          state: input.kind,
          activeAt: previous.activeAt!,
          firingAt: previous.firingAt!,
          ...(previous.lastBreachAt === undefined ? {} : { lastBreachAt: previous.lastBreachAt }),
          ...(message === undefined ? {} : { error: message }),
        };
      }
      return message === undefined ? { state: 'nodata' } : { state: 'error', error: message };
    }
  }
}

/**
 * The time source of an instance. Tests inject a fake one to step through time deterministically;
 * everything else uses {@link systemClock}.
 *
 * @example
 * ```ts
 * let now = 0;
 * const clock: Clock = { now: () => now, epochNow: () => 1_700_000_000_000 + now };
 * const enterprise = createEnterprise({ clock });
 * ```
 */
export interface Clock {
  /** Monotonic milliseconds with sub-millisecond precision, for durations and window rotation. */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch, for timestamps shown to people. */
  epochNow(): number;
}

/** The real clock: `performance.now()` for durations, `Date.now()` for timestamps. */
export const systemClock: Clock = {
  now: () => performance.now(),
  epochNow: () => Date.now(),
};

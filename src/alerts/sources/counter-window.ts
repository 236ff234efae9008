import type { Clock } from '../../core/clock.js';

/** How many samples a window keeps at most: one per `windowMs / SAMPLES` at the fastest. */
const SAMPLES = 12;

interface Sample {
  at: number;
  values: ReadonlyMap<string, number>;
}

/**
 * @internal Turns counters that only grow (a cache's hits, a tier's errors, since the cache was
 * built) into increases over a rolling window, so an alert sees what happened lately rather than
 * since start. Each call to {@link increase} records the current counters (at most one sample per
 * `windowMs / 12`) and answers the increase of each since the newest sample at least `windowMs` old
 * — or since the oldest sample kept while the window is still filling, and since zero on the very
 * first call. A counter that went down (its owner was rebuilt) counts from zero again.
 *
 * @example
 * ```ts
 * const window = new CounterWindow(60_000, systemClock);
 * window.increase(new Map([['users.hits', 10]])); // Map { 'users.hits' => 10 } (since start)
 * ```
 */
export class CounterWindow {
  readonly #windowMs: number;
  readonly #spacingMs: number;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #samples: Sample[] = [];

  constructor(windowMs: number, clock: Pick<Clock, 'now'>) {
    this.#windowMs = windowMs;
    this.#spacingMs = windowMs / SAMPLES;
    this.#clock = clock;
  }

  /** The increase of each counter over the window, given the counters' current values. */
  increase(current: ReadonlyMap<string, number>): Map<string, number> {
    const now = this.#clock.now();
    const base = this.#base(now);
    const increases = new Map<string, number>();
    for (const [key, value] of current) {
      const before = base?.values.get(key) ?? 0;
      increases.set(key, value >= before ? value - before : value);
    }
    this.#record(now, current);
    return increases;
  }

  /** The newest sample at least a window old, else the oldest one (undefined: none yet). */
  #base(now: number): Sample | undefined {
    let base: Sample | undefined = this.#samples[0];
    for (const sample of this.#samples) {
      if (now - sample.at >= this.#windowMs) base = sample;
      else break;
    }
    return base;
  }

  #record(now: number, current: ReadonlyMap<string, number>): void {
    const samples = this.#samples;
    const last = samples[samples.length - 1];
    if (last === undefined || now - last.at >= this.#spacingMs) {
      samples.push({ at: now, values: new Map(current) });
    }
    // Keep one sample older than a window (the next base), drop the ones before it.
    while (samples.length > 1 && now - samples[1]!.at >= this.#windowMs) samples.shift();
  }
}

import type { QueueGroupStats } from './api-types.js';

/** Groups whose completions are counted apart; the others count under {@link OTHER_GROUP}. */
const MAX_TRACKED = 2_000;
/** The bucket of the groups beyond the tracked ones (in rates and metrics). */
export const OTHER_GROUP = 'other';

interface Rate {
  /** Completions in the current minute and the one before. */
  current: number;
  previous: number;
  minute: number;
}

/**
 * @internal Completions per group in this process over about the last minute (two one-minute
 * buckets, the older one weighed by how much of it the last 60 s still cover), for a bounded
 * number of groups; and the latest group figures of each queue, read by `stats()`, for the
 * metrics.
 */
export class GroupRates {
  readonly #rates = new Map<string, Rate>();
  /** The group figures of each queue as `stats()` last read them. */
  readonly latest = new Map<string, QueueGroupStats>();

  completed(queue: string, group: string, now: number): void {
    let key = `${queue}\u0000${group}`;
    let rate = this.#rates.get(key);
    if (rate === undefined) {
      if (this.#rates.size >= MAX_TRACKED) key = `${queue}\u0000${OTHER_GROUP}`;
      rate = this.#rates.get(key);
      if (rate === undefined) {
        rate = { current: 0, previous: 0, minute: Math.floor(now / 60_000) };
        this.#rates.set(key, rate);
      }
    }
    roll(rate, now);
    rate.current += 1;
  }

  /** Completions per second of `group` in `queue` over about the last minute. */
  perSecond(queue: string, group: string, now: number): number {
    const rate = this.#rates.get(`${queue}\u0000${group}`);
    if (rate === undefined) return 0;
    roll(rate, now);
    const into = (now % 60_000) / 60_000;
    return (rate.current + rate.previous * (1 - into)) / 60;
  }
}

function roll(rate: Rate, now: number): void {
  const minute = Math.floor(now / 60_000);
  if (minute === rate.minute) return;
  rate.previous = minute === rate.minute + 1 ? rate.current : 0;
  rate.current = 0;
  rate.minute = minute;
}

// The figures of the security module per minute: requests, server errors, refusals, bans and
// threats by category, in a ring of one-minute buckets, for the score's window and the series the
// monitoring endpoint draws.
import type { ThreatCategory } from './types.js';

const MINUTE_MS = 60_000;

/** The counters of one minute. */
export interface SecurityMinute {
  /** Epoch milliseconds of the minute's start. */
  at: number;
  requests: number;
  /** Responses with a 5xx status. */
  serverErrors: number;
  /** Requests refused by a rate limit. */
  rateLimited: number;
  /** Requests refused as threats, or from banned or denied clients. */
  blocked: number;
  bans: number;
  threats: Partial<Record<ThreatCategory, number>>;
}

/** The sums of the minutes of a window. */
export type SecurityTotals = Omit<SecurityMinute, 'at'> & { threatCount: number };

type Counter = Exclude<keyof SecurityMinute, 'at' | 'threats'>;

function emptyMinute(at: number): SecurityMinute {
  return { at, requests: 0, serverErrors: 0, rateLimited: 0, blocked: 0, bans: 0, threats: {} };
}

/**
 * A ring of one-minute buckets: counting is a field increment on the current bucket;
 * a bucket older than the ring is reset when its slot comes round again.
 */
export class SecurityWindow {
  readonly #ring: SecurityMinute[];
  readonly #now: () => number;

  /** @param minutes - how many minutes are kept (the longest window asked for). */
  constructor(minutes: number, now: () => number) {
    this.#ring = Array.from({ length: Math.max(2, Math.ceil(minutes)) }, () => emptyMinute(-1));
    this.#now = now;
  }

  /** Adds `n` to a counter of the current minute. */
  add(counter: Counter, n = 1): void {
    this.#current()[counter] += n;
  }

  /** Counts one threat of `category` in the current minute. */
  threat(category: ThreatCategory): void {
    const threats = this.#current().threats;
    threats[category] = (threats[category] ?? 0) + 1;
  }

  /** The sums over the last `windowMs` (whole minutes, the current one included). */
  totals(windowMs: number): SecurityTotals {
    const totals: SecurityTotals = {
      requests: 0,
      serverErrors: 0,
      rateLimited: 0,
      blocked: 0,
      bans: 0,
      threats: {},
      threatCount: 0,
    };
    for (const minute of this.series(windowMs)) {
      totals.requests += minute.requests;
      totals.serverErrors += minute.serverErrors;
      totals.rateLimited += minute.rateLimited;
      totals.blocked += minute.blocked;
      totals.bans += minute.bans;
      for (const [category, n] of Object.entries(minute.threats) as [ThreatCategory, number][]) {
        totals.threats[category] = (totals.threats[category] ?? 0) + n;
        totals.threatCount += n;
      }
    }
    return totals;
  }

  /** The minutes of the last `windowMs`, oldest first, each a copy; minutes without data are zeros. */
  series(windowMs: number): SecurityMinute[] {
    const ring = this.#ring;
    const count = Math.min(ring.length, Math.max(1, Math.ceil(windowMs / MINUTE_MS)));
    const current = Math.floor(this.#now() / MINUTE_MS);
    const out: SecurityMinute[] = [];
    for (let minute = current - count + 1; minute <= current; minute++) {
      const bucket = ring[minute % ring.length]!;
      const at = minute * MINUTE_MS;
      out.push(bucket.at === at ? { ...bucket, threats: { ...bucket.threats } } : emptyMinute(at));
    }
    return out;
  }

  #current(): SecurityMinute {
    const minute = Math.floor(this.#now() / MINUTE_MS);
    const ring = this.#ring;
    const at = minute * MINUTE_MS;
    let bucket = ring[minute % ring.length]!;
    if (bucket.at !== at) {
      bucket = emptyMinute(at);
      ring[minute % ring.length] = bucket;
    }
    return bucket;
  }
}

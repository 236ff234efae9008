/**
 * What `track()` takes besides the event name.
 *
 * @example
 * ```ts
 * analytics.track('purchase', { userId: user.id, properties: { plan: 'pro' } });
 * ```
 */
export interface TrackOptions {
  /** The user (a string of at most 256 characters, or a number, taken as its decimal string: 7 and '7' are one user); pseudonymised before it is stored. Anonymous without. */
  userId?: string | number;
  /** Scalar values kept with the event in `recent()` only; never stored. */
  properties?: Readonly<Record<string, unknown>>;
  /** When it happened (epoch ms or a Date): within the data retention, at most 5 minutes ahead. @defaultValue now */
  at?: number | Date;
}

/**
 * Why `track()` dropped an event.
 *
 * @example
 * ```ts
 * const reason: DropReason = analytics.stats().dropped.invalid > 0 ? 'invalid' : 'overflow';
 * ```
 */
export type DropReason = 'invalid' | 'event-limit' | 'overflow' | 'closed';

/**
 * The events of {@link Analytics}.
 *
 * @example
 * ```ts
 * analytics.on('dropped', ({ reason, count }) => metrics.inc('analytics_dropped', count, { reason }));
 * ```
 */
export type AnalyticsEvents = {
  /** Events were refused or lost: bad input (`field` names it), too many names, a full buffer, after close. */
  dropped: [event: { reason: DropReason; count: number; field?: string; event?: string }];
  /** A write failed: the store is considered away; events are kept (bounded) and retried. */
  'store-error': [event: { error: Error; buffered: number }];
  /** A write succeeded again after an outage; the backlog follows. */
  'store-recovered': [event: { downMs: number; buffered: number }];
  /** One flush wrote `events` in `batches`. */
  flushed: [event: { events: number; batches: number; ms: number }];
};

/**
 * Figures of the tracking pipeline of this process.
 *
 * @example
 * ```ts
 * if (analytics.stats().storeDown) log.warn('analytics are buffering');
 * ```
 */
export interface AnalyticsStats {
  /** Events accepted by `track()`. */
  tracked: number;
  /** Events written to the store. */
  written: number;
  /** Events waiting to be written. */
  buffered: number;
  dropped: Record<DropReason, number>;
  storeDown: boolean;
  storeErrors: number;
  outages: number;
  lastError?: string;
  lastWriteAt?: string;
  /** Where pseudonyms' key came from: `'random'` means this process only. */
  hashKey: 'option' | 'env' | 'random';
}

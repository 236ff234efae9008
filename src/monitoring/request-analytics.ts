// The middleware's `analytics` option, framework-neutral: each completed request tracked into the
// instance's analytics (`enterprise.analytics.track`) by route template, method and status class.
// Only types of the analytics module are imported: the option is checked, and each request turned
// into an event, by the function its composition provides.
import type {
  compileMiddlewareAnalytics,
  MiddlewareAnalyticsOptions,
  RequestUsageTracker,
} from '../analytics/events/middleware-option.js';
import { describeValue, InvalidArgumentError, LifecycleError } from '../core/errors.js';
import { providedService } from '../core/module-services.js';
import type { MonitoredInstance } from './monitored-instance.js';

export type {
  MiddlewareAnalyticsOptions,
  RequestUsage,
} from '../analytics/events/middleware-option.js';

// Spelled out rather than imported: the constant lives in the analytics module's code.
const SERVICE = 'analytics.middleware-option';

/** At most one log line a minute when tracking fails. */
const LOG_INTERVAL_MS = 60_000;

/**
 * @internal The `analytics` option of one middleware, checked at creation by the analytics
 * module's own rules. {@link RequestAnalytics.track} never throws: a failure is logged (at most
 * once a minute) and the request goes on.
 */
export class RequestAnalytics {
  readonly #track: RequestUsageTracker;
  #loggedAt = Number.NEGATIVE_INFINITY;

  constructor(option: true | MiddlewareAnalyticsOptions) {
    const compile = providedService<typeof compileMiddlewareAnalytics>(SERVICE);
    if (compile === undefined) {
      throw new LifecycleError(
        'the middleware\'s analytics option needs the analytics module: import "@revcopy/enterprise" or "@revcopy/enterprise/analytics" in the application',
        { module: 'analytics' },
      );
    }
    this.#track = compile(option);
  }

  /** Tracks one completed request into `enterprise.analytics` (built on first use). */
  track(
    enterprise: MonitoredInstance,
    method: string,
    route: string,
    statusClass: string,
    status: number,
  ): void {
    try {
      this.#track(enterprise.analytics, { method, route, statusClass, status });
    } catch (error) {
      const now = Date.now();
      if (now - this.#loggedAt < LOG_INTERVAL_MS) return;
      this.#loggedAt = now;
      try {
        enterprise.logger.warn({ err: error }, 'analytics: a request was not tracked');
      } catch {
        // A logger that throws cannot fail the request either.
      }
    }
  }
}

/** @internal The `analytics` option, checked: `undefined` when off (the default), else the tracker. */
export function requestAnalytics(option: unknown): RequestAnalytics | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (option === null || typeof option !== 'object')) {
    throw new InvalidArgumentError(
      `analytics=${describeValue(option)} is invalid: expected a boolean or { event }`,
      { argument: 'analytics', value: option, expected: 'a boolean or { event }' },
    );
  }
  return new RequestAnalytics(option as true | MiddlewareAnalyticsOptions);
}

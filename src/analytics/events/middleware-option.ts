// The HTTP middleware's `analytics` option: request-level usage (route template, method, status
// class) tracked as analytics events. The composition provides the compiler below as a module
// service, so the middleware checks the option by the analytics module's own rules without
// importing its code.
import { describeValue } from '../../core/errors.js';
import type { Analytics } from './analytics.js';
import { AnalyticsConfigError } from './errors.js';

/** The service name under which the composition provides {@link compileMiddlewareAnalytics}. */
export const MIDDLEWARE_ANALYTICS_SERVICE = 'analytics.middleware-option';

/**
 * One request as the middleware's `analytics` option sees it.
 *
 * @example
 * ```ts
 * const usage: RequestUsage = { method: 'GET', route: '/users/:id', statusClass: '2xx', status: 200 };
 * ```
 */
export interface RequestUsage {
  /** The HTTP method, upper case. */
  readonly method: string;
  /** The route template (`/users/:id`), or `unmatched` (never the raw path). */
  readonly route: string;
  /** `1xx` to `5xx`, `other`, or `aborted` when the client left before the response was complete. */
  readonly statusClass: string;
  /** The response status (0 when none was sent). */
  readonly status: number;
}

/**
 * The middleware's `analytics` option, as an object.
 *
 * @example
 * ```ts
 * app.use(enterpriseMiddleware({
 *   analytics: { event: ({ method, route }) => (route.startsWith('/api/') ? `${method} ${route}` : undefined) },
 * }));
 * ```
 */
export interface MiddlewareAnalyticsOptions {
  /**
   * The event a request is tracked as, or `undefined` not to track it. @defaultValue
   * `` `${method} ${route} ${statusClass}` `` (`GET /users/:id 2xx`), with successful liveness and
   * readiness probes (routes ending in `/health/live` or `/health/ready`) left out.
   */
  event?: (request: RequestUsage) => string | undefined;
}

/** Tracks one request into an instance's analytics. Never throws into the request. */
export type RequestUsageTracker = (analytics: Analytics, request: RequestUsage) => void;

const HEALTH_PROBE = /\/health\/(?:live|ready)$/;

/**
 * The default event of a request: `GET /users/:id 2xx`; probes that succeeded are not tracked.
 *
 * @example
 * ```ts
 * requestUsageEvent({ method: 'GET', route: '/users/:id', statusClass: '2xx', status: 200 }); // 'GET /users/:id 2xx'
 * ```
 */
export function requestUsageEvent(request: RequestUsage): string | undefined {
  if (request.status > 0 && request.status < 500 && HEALTH_PROBE.test(request.route)) {
    return undefined;
  }
  return `${request.method} ${request.route} ${request.statusClass}`;
}

/**
 * @internal Checks the middleware's `analytics` option (an {@link AnalyticsConfigError} naming the
 * field when it is wrong) and returns what tracks each request: `track(event, { properties })`
 * with the method, route, status class and status as properties (kept in `recent()` only).
 */
export function compileMiddlewareAnalytics(
  option: true | MiddlewareAnalyticsOptions,
): RequestUsageTracker {
  const event = option === true ? requestUsageEvent : (option.event ?? requestUsageEvent);
  if (typeof event !== 'function') {
    throw new AnalyticsConfigError(
      `the middleware's analytics.event=${describeValue(event)} is invalid: expected a function (request) => event name`,
      { field: 'analytics.event', value: event, expected: 'a function' },
    );
  }
  return (analytics, request) => {
    const name = event(request);
    if (name === undefined) return;
    analytics.track(name, {
      properties: {
        method: request.method,
        route: request.route,
        status_class: request.statusClass,
        status: request.status,
      },
    });
  };
}

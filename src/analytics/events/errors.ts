import { EnterpriseError } from '../../core/errors.js';

/**
 * An analytics option is invalid: a funnel without steps, a retention that is not a duration, a
 * shared store without a hash key. `context.field` names the option (`funnels.signup.within`,
 * `hashKey`, `maxBuffered`...).
 *
 * @example
 * ```ts
 * new Analytics({ redisUrl: 'redis://redis:6379' });
 * // AnalyticsConfigError (E_ANALYTICS_CONFIG), field "hashKey": a shared store needs ANALYTICS_HASH_KEY
 * ```
 */
export class AnalyticsConfigError extends EnterpriseError {
  constructor(message: string, context: { field: string; value?: unknown; expected?: string }) {
    super('E_ANALYTICS_CONFIG', message, { context });
  }
}

/**
 * A query was refused before reaching the store: a range that does not parse or ends before it
 * starts, a step that would return too many points, an unknown funnel. `context.parameter` names
 * the parameter, so an endpoint can answer 400 naming it.
 *
 * @example
 * ```ts
 * await analytics.funnel('nope'); // AnalyticsQueryError (E_ANALYTICS_QUERY), parameter "funnel"
 * ```
 */
export class AnalyticsQueryError extends EnterpriseError {
  constructor(message: string, context: { parameter: string; value?: unknown; expected?: string }) {
    super('E_ANALYTICS_QUERY', message, { context });
  }
}

/**
 * The store did not answer a query (Redis away, a timeout): `cause` carries the store's error and
 * `context.operation` the query. An endpoint answers 503.
 *
 * @example
 * ```ts
 * try {
 *   await analytics.overview();
 * } catch (error) {
 *   if (error instanceof AnalyticsStoreError) reply(503);
 * }
 * ```
 */
export class AnalyticsStoreError extends EnterpriseError {
  constructor(operation: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('E_ANALYTICS_STORE', `analytics store: ${operation} failed: ${reason}`, {
      context: { operation },
      cause,
    });
  }
}

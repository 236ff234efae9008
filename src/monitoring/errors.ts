import { EnterpriseError } from '../core/errors.js';

/**
 * The monitoring router was given options it cannot start with. `code` is
 * `E_MONITORING_AUTH_REQUIRED` when `NODE_ENV=production` and neither `auth` nor `public: true` was
 * given, `E_MONITORING_CONFIG` for any other invalid option.
 *
 * @example
 * ```ts
 * try {
 *   createMonitoringRouter(); // NODE_ENV=production, no auth
 * } catch (error) {
 *   if (error instanceof MonitoringConfigError && error.code === 'E_MONITORING_AUTH_REQUIRED') {
 *     console.error('set MONITORING_TOKEN');
 *   }
 * }
 * ```
 */
export class MonitoringConfigError extends EnterpriseError {
  constructor(
    code: 'E_MONITORING_AUTH_REQUIRED' | 'E_MONITORING_CONFIG',
    message: string,
    context: Record<string, unknown> = {},
  ) {
    super(code, message, { context });
  }
}

/**
 * The stable codes of the router's JSON error bodies.
 *
 * @example
 * ```ts
 * const { error } = await response.json();
 * if ((error.code as MonitoringErrorCode) === 'E_TOO_MANY_STREAMS') retryLater();
 * ```
 */
export type MonitoringErrorCode =
  | 'E_BAD_REQUEST'
  | 'E_UNAUTHORIZED'
  | 'E_FORBIDDEN'
  | 'E_NOT_FOUND'
  | 'E_METHOD_NOT_ALLOWED'
  | 'E_CONFLICT'
  | 'E_TOO_MANY_STREAMS'
  | 'E_NOT_IMPLEMENTED'
  | 'E_MODULE_NOT_ENABLED'
  | 'E_CLUSTER_NOT_CONFIGURED'
  | 'E_ACTION_FAILED'
  | 'E_UNAVAILABLE'
  | 'E_INTERNAL';

/**
 * A request the router answers with an error: carries the HTTP status and the stable code of the
 * JSON body `{ error: { code, message } }`. Thrown by action handlers (an unknown queue, a dead
 * task that does not exist) and by the hooks you give the router, to choose the answer.
 *
 * @example
 * ```ts
 * createMonitoringRouter({
 *   auth: (request) => {
 *     if (!request.headers.get('x-team')) throw new MonitoringRequestError(400, 'E_BAD_REQUEST', 'x-team is required');
 *     return true;
 *   },
 * });
 * ```
 */
export class MonitoringRequestError extends EnterpriseError {
  /** The HTTP status of the answer. */
  readonly status: number;
  /** Extra response headers (`Allow`, `Retry-After`, `WWW-Authenticate`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The field of the request that is wrong (`matchers[0].value`, `label`), sent as `error.field`. */
  readonly field: string | undefined;

  constructor(
    status: number,
    code: MonitoringErrorCode,
    message: string,
    headers: Record<string, string> = {},
    details: { field?: string } = {},
  ) {
    super(code, message, {
      context: details.field === undefined ? { status } : { status, field: details.field },
    });
    this.status = status;
    this.headers = Object.freeze({ ...headers });
    this.field = details.field;
  }
}

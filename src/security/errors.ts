import { EnterpriseError } from '../core/errors.js';

/**
 * A security option or argument is invalid: a CIDR that does not parse, a limit or window that is
 * not positive, a trusted-proxy setting that cannot be read, an unknown mode or algorithm, a login
 * without a user id or address. `context.field` names it.
 *
 * @example
 * ```ts
 * createRateLimiter({ limit: 0, window: '1m' }); // SecurityConfigError (E_SECURITY_CONFIG), field "limit"
 * ```
 */
export class SecurityConfigError extends EnterpriseError {
  constructor(message: string, context: { field: string; value?: unknown; expected?: string }) {
    super('E_SECURITY_CONFIG', message, { context });
  }
}

/**
 * A request was refused by the security module: blocked as a threat, from a banned or denied
 * client, or over its rate limit. Adapters turn it into a 403 or 429 with a JSON body.
 *
 * @example
 * ```ts
 * if (error instanceof SecurityRefusalError && error.status === 429) retryLater(error.context.retryAfterMs);
 * ```
 */
export class SecurityRefusalError extends EnterpriseError {
  readonly status: 403 | 429;
  constructor(
    status: 403 | 429,
    message: string,
    context: { reason: 'threat' | 'banned' | 'denied' | 'rate-limit'; [key: string]: unknown },
  ) {
    super(status === 429 ? 'E_RATE_LIMITED' : 'E_FORBIDDEN', message, { context });
    this.status = status;
  }
}

// The middleware's `security` option, framework-neutral: each request handed to the instance's
// security module (`enterprise.security.inspect`) before the host's handler runs, and the response
// it got reported back (`observe`). Only types of the security module are imported: its code comes
// from the instance, and the option is checked by the function its composition provides.
import { describeValue, InvalidArgumentError, LifecycleError } from '../core/errors.js';
import { providedService } from '../core/module-services.js';
import type {
  compileMiddlewareSecurity,
  MiddlewareSecurityOptions,
} from '../security/middleware-option.js';
import type { SecurityVerdict } from '../security/request-gate.js';
import type { RoutePolicy } from '../security/route-limits.js';
import type { Security } from '../security/security.js';
import type { ScreenedRequest } from '../security/types.js';
import type { MonitoredInstance } from './monitored-instance.js';

export type { MiddlewareSecurityOptions } from '../security/middleware-option.js';
export type { SecurityRefusal, SecurityVerdict } from '../security/request-gate.js';
export type { RouteRateLimit } from '../security/route-limits.js';
export type { ScreenedRequest } from '../security/types.js';

// Spelled out rather than imported: the constant lives in the security module's code.
const SERVICE = 'security.middleware-option';

/** At most one log line a minute when the security module fails on requests. */
const LOG_INTERVAL_MS = 60_000;

/** What the guard reads and writes of a request in flight (its `RequestRecord`). */
export interface GuardedRequest {
  readonly enterprise: MonitoredInstance;
  /** The verdict the request was let through or refused with; reported once the response is sent. */
  verdict: SecurityVerdict | undefined;
}

/**
 * The `security` option of one middleware: its route limits compiled once, at creation,
 * by the security module's own checks (so a bad one throws a SecurityConfigError naming the field
 * when the middleware is created). {@link RequestSecurity.screen} never throws: a failure of the
 * security module is logged and the request goes on.
 */
export class RequestSecurity {
  readonly #policies: readonly RoutePolicy[];
  readonly #securityHeaders: boolean;
  /** The module the hygiene check was last reported to (one per instance, not per request). */
  #noted: Security | undefined;
  #loggedAt = Number.NEGATIVE_INFINITY;
  #unlogged = 0;

  constructor(option: true | MiddlewareSecurityOptions, securityHeaders: boolean) {
    const compile = providedService<typeof compileMiddlewareSecurity>(SERVICE);
    if (compile === undefined) {
      throw new LifecycleError(
        'the middleware\'s security option needs the security module: import "@revcopy/enterprise" or "@revcopy/enterprise/security" in the application',
        { module: 'security' },
      );
    }
    this.#policies = compile(option);
    this.#securityHeaders = securityHeaders;
  }

  /**
   * Hands the request to the instance's security module. Returns the verdict (also kept in
   * `record.verdict`), a promise of it when a remote store decides a rate limit, or `undefined`
   * when the module failed (the request goes on).
   */
  screen(
    record: GuardedRequest,
    request: ScreenedRequest,
  ): SecurityVerdict | Promise<SecurityVerdict | undefined> | undefined {
    try {
      const security = record.enterprise.security;
      if (security !== this.#noted) {
        this.#noted = security;
        security.noteHygiene('securityHeaders', this.#securityHeaders);
      }
      const verdict = security.inspect(request, this.#policies);
      if (verdict instanceof Promise) {
        return verdict.then(
          (settled) => {
            record.verdict = settled;
            return settled;
          },
          (error: unknown) => this.#failed(record, error),
        );
      }
      record.verdict = verdict;
      return verdict;
    } catch (error) {
      return this.#failed(record, error);
    }
  }

  #failed(record: GuardedRequest, error: unknown): undefined {
    const now = Date.now();
    if (now - this.#loggedAt < LOG_INTERVAL_MS) {
      this.#unlogged++;
      return undefined;
    }
    try {
      record.enterprise.logger.warn(
        { err: error, suppressed: this.#unlogged },
        'security: the request was not inspected; it goes on unchecked',
      );
    } catch {
      // A logger that throws cannot fail the request either.
    }
    this.#loggedAt = now;
    this.#unlogged = 0;
    return undefined;
  }
}

/**
 * @internal Reports a screened request's response to the security module (auth bursts, error
 * ratios, 5xx). Never throws.
 */
export function observeResponse(record: GuardedRequest, status: number): void {
  const verdict = record.verdict;
  if (verdict === undefined) return;
  try {
    record.enterprise.peek('security')?.observe(verdict, status);
  } catch {
    // Reporting must never break the host's response.
  }
}

/**
 * @internal The middleware's `security` option, checked: `undefined` when off (`false`, the
 * default), else the guard.
 */
export function requestSecurity(
  option: unknown,
  securityHeaders: boolean,
): RequestSecurity | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (option === null || typeof option !== 'object')) {
    throw new InvalidArgumentError(
      `security=${describeValue(option)} is invalid: expected a boolean or { rateLimits }`,
      { argument: 'security', value: option, expected: 'a boolean or { rateLimits }' },
    );
  }
  return new RequestSecurity(option as true | MiddlewareSecurityOptions, securityHeaders);
}

// The adapters' middleware option `security`, checked by the security module's own rules. The
// middleware lives in the monitoring module, which must not load this module's code: it reaches
// this function through the composition (src/compose/security.ts provides it), never by import.
import { invalid } from './options.js';
import { compileRouteLimits, type RoutePolicy, type RouteRateLimit } from './route-limits.js';

/**
 * The middleware's `security` option as an object: what is per middleware. Everything else (mode,
 * trusted proxies, default limit, stores...) belongs to the instance's security module, given as
 * `createEnterprise({ security: {...} })`.
 *
 * @example
 * ```ts
 * app.use(enterpriseMiddleware({
 *   security: { rateLimits: [{ path: '/login', methods: ['POST'], limit: 5, window: '1m' }] },
 * }));
 * ```
 */
export interface MiddlewareSecurityOptions {
  /** Rate limits of routes or route groups, on top of the module's `rateLimit.default`. */
  rateLimits?: readonly RouteRateLimit[];
}

/** The service name under which the composition provides {@link compileMiddlewareSecurity}. */
export const MIDDLEWARE_SECURITY_SERVICE = 'security.middleware-option';

/** Options of the instance's security module, which a user may try to give the middleware. */
const MODULE_OPTIONS = new Set([
  'mode',
  'screening',
  'clientKey',
  'logins',
  'clients',
  'bans',
  'rateLimit',
  'dynamic',
  'score',
  'redis',
  'redisUrl',
  'prefix',
  'logger',
  'system',
  'clock',
]);

/**
 * @internal Checks the middleware's `security` option (`true` or {@link MiddlewareSecurityOptions})
 * and compiles its route limits; a SecurityConfigError names the bad field (`security.rateLimits[0].limit`).
 */
export function compileMiddlewareSecurity(option: unknown, field = 'security'): RoutePolicy[] {
  if (option === true) return [];
  if (option === null || typeof option !== 'object' || Array.isArray(option)) {
    throw invalid(field, option, 'true, false or { rateLimits }');
  }
  for (const [key, value] of Object.entries(option)) {
    if (key === 'rateLimits') continue;
    throw invalid(
      `${field}.${key}`,
      value,
      MODULE_OPTIONS.has(key)
        ? `only rateLimits here: ${key} is an option of the instance's security module, createEnterprise({ security: { ${key} } })`
        : 'only rateLimits: the middleware takes { rateLimits }',
    );
  }
  return compileRouteLimits(
    (option as MiddlewareSecurityOptions).rateLimits,
    `${field}.rateLimits`,
  );
}

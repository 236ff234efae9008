// Rate limits per route or route group, as the middleware takes them: which requests a limit
// applies to, what it is named, and what one request costs.
import { type Duration, parseDuration } from '../core/duration.js';
import { invalid } from './options.js';
import type { ScreenedRequest } from './types.js';

/**
 * A rate limit for the requests of a route or a group of routes, per client (or per `key`).
 *
 * @example
 * ```ts
 * const limits: RouteRateLimit[] = [
 *   { name: 'login', path: '/login', methods: ['POST'], limit: 5, window: '1m' },
 *   { name: 'api', path: '/api/*', limit: 600, window: '1m' },
 *   { name: 'export', path: /^\/reports\/\d+\/export$/, limit: 10, window: '1h', cost: 2 },
 * ];
 * app.use(enterpriseMiddleware({ security: { rateLimits: limits } }));
 * ```
 */
export interface RouteRateLimit {
  /** Names the policy in `RateLimit-Policy`, the statistics and the Redis keys. @defaultValue the path */
  name?: string;
  /**
   * The requests it applies to: a path (`/login`, which also covers `/login/...`), a prefix ending
   * in `*` (`/api/*`), a RegExp tested on the path, or a function. @defaultValue every request
   */
  path?: string | RegExp | ((path: string, method: string) => boolean);
  /** Only these methods (upper case). @defaultValue every method */
  methods?: readonly string[];
  /** Requests (units of cost) per `window`. */
  limit: number;
  /** Seconds, or a string with a unit (`'1m'`). */
  window: Duration;
  /** What one request costs. @defaultValue 1 */
  cost?: number;
  /** What the limit counts per. @defaultValue the client key */
  key?: (request: ScreenedRequest, client: string) => string;
}

/** A route limit ready to match (made by {@link compileRouteLimits}). */
export interface RoutePolicy {
  readonly name: string;
  readonly rule: RouteRateLimit;
  readonly cost: number;
  matches(path: string, method: string): boolean;
}

function pathMatcher(
  path: RouteRateLimit['path'],
  field: string,
): (path: string, method: string) => boolean {
  if (path === undefined) return () => true;
  if (typeof path === 'function') return path;
  if (path instanceof RegExp) return (p) => path.test(p);
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw invalid(field, path, "a path starting with '/', a RegExp or a function");
  }
  if (path.endsWith('*')) {
    const prefix = path.slice(0, -1);
    return (p) => p.startsWith(prefix);
  }
  const base = path.endsWith('/') && path.length > 1 ? path.slice(0, -1) : path;
  return (p) => p === base || (p.startsWith(base) && p.charCodeAt(base.length) === 47);
}

/**
 * Checks and compiles route limits (a SecurityConfigError names the bad field).
 *
 * @example
 * ```ts
 * const policies = compileRouteLimits([{ path: '/login', methods: ['POST'], limit: 5, window: '1m' }]);
 * await security.inspect(request, policies);
 * ```
 */
export function compileRouteLimits(
  limits: readonly RouteRateLimit[] | undefined,
  field = 'rateLimits',
): RoutePolicy[] {
  if (limits === undefined) return [];
  if (!Array.isArray(limits)) throw invalid(field, limits, 'an array of route limits');
  const names = new Set<string>();
  return limits.map((rule, index) => {
    const at = `${field}[${index}]`;
    if (rule === null || typeof rule !== 'object') throw invalid(at, rule, 'a route limit');
    const match = pathMatcher(rule.path, `${at}.path`);
    const methods = rule.methods;
    if (
      methods !== undefined &&
      (!Array.isArray(methods) || methods.some((m) => typeof m !== 'string'))
    ) {
      throw invalid(`${at}.methods`, methods, 'an array of HTTP methods');
    }
    const upper = methods?.map((m: string) => m.toUpperCase());
    // Checked here, not when the limiter is first built on a request: a bad limit fails where it is
    // written (the middleware's creation), never turns into a limit silently not applied.
    if (typeof rule.limit !== 'number' || !Number.isSafeInteger(rule.limit) || rule.limit < 1) {
      throw invalid(`${at}.limit`, rule.limit, 'a positive integer');
    }
    let windowMs: number;
    try {
      windowMs = parseDuration(rule.window, `${at}.window`);
    } catch {
      windowMs = Number.NaN;
    }
    if (!(windowMs >= 1)) {
      throw invalid(`${at}.window`, rule.window, "a positive duration (seconds, or '30s', '1m')");
    }
    const cost = rule.cost ?? 1;
    if (typeof cost !== 'number' || !Number.isSafeInteger(cost) || cost < 1) {
      throw invalid(`${at}.cost`, cost, 'a positive integer');
    }
    if (rule.key !== undefined && typeof rule.key !== 'function') {
      throw invalid(`${at}.key`, rule.key, 'a function (request, client) => key');
    }
    const name = rule.name ?? (typeof rule.path === 'string' ? rule.path : `route-${index}`);
    if (typeof name !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(name)) {
      throw invalid(`${at}.name`, name, '1 to 64 printable ASCII characters without spaces');
    }
    if (names.has(name)) throw invalid(`${at}.name`, name, 'a name no other route limit has');
    names.add(name);
    return {
      name,
      rule,
      cost,
      matches:
        upper === undefined
          ? match
          : (path: string, method: string) => upper.includes(method) && match(path, method),
    };
  });
}

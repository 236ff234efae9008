import { MonitoringRequestError } from './errors.js';
import type { RouteSpec } from './route-spec.js';

/**
 * @internal The error for a request no route took: 405 with `Allow` when the path is a route's
 * under another method, 404 otherwise.
 */
export function unmatchedRequest(
  routes: readonly RouteSpec[],
  basePath: string,
): (method: string, url: string) => never {
  const matchers = routes.map((route) => ({ route, pattern: routePattern(route) }));
  return (method, url) => {
    const path = stripBase(new URL(url).pathname, basePath);
    const allowed = new Set<string>();
    for (const { route, pattern } of matchers) {
      if (path !== undefined && pattern.test(path)) {
        allowed.add(route.method.toUpperCase());
        if (route.method === 'get') allowed.add('HEAD');
      }
    }
    if (allowed.size > 0) {
      throw new MonitoringRequestError(
        405,
        'E_METHOD_NOT_ALLOWED',
        `${method} is not allowed here; use ${[...allowed].join(', ')}`,
        { allow: [...allowed].join(', ') },
      );
    }
    throw new MonitoringRequestError(404, 'E_NOT_FOUND', 'no monitoring endpoint at this path');
  };
}

/** @internal `path` below the mount point, or `undefined` when it lies outside it. */
export function stripBase(path: string, basePath: string): string | undefined {
  if (basePath === '') return path;
  if (path === basePath) return '/';
  return path.startsWith(`${basePath}/`) ? path.slice(basePath.length) : undefined;
}

/** @internal The path of `url`, or `/` when it cannot be parsed. */
export function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '/';
  }
}

function routePattern(route: RouteSpec): RegExp {
  const source = route.path
    .split('/')
    .map((segment) =>
      segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source === '' ? '/' : source}/?$`);
}

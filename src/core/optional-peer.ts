import { createRequire } from 'node:module';
import { MissingDependencyError } from './errors.js';

/**
 * Loads an optional peer dependency relative to this package (`import.meta.url`; tsup shims it in
 * the CommonJS build), or throws a {@link MissingDependencyError} naming the package to install.
 * Called where the feature is first used, never at import, so a host without the peer can still
 * import every entry.
 *
 * @example
 * ```ts
 * const pg = loadPeer<PgModule>('pg', 'the PostgreSQL cache tier');
 * ```
 * @internal
 */
export function loadPeer<T>(packageName: string, feature: string): T {
  try {
    return createRequire(import.meta.url)(packageName) as T;
  } catch (error) {
    throw new MissingDependencyError(packageName, feature, error);
  }
}

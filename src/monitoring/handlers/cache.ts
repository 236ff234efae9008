import { LifecycleError } from '../../core/errors.js';
import { clusterAnswer, clusterScope } from '../cluster-scope.js';
import { MonitoringRequestError } from '../errors.js';
import type { MonitoredInstance } from '../monitored-instance.js';
import { jsonResponse as json } from '../responses.js';
import { disabledCacheAnalytics } from '../snapshot.js';
import type { HandlerContext, Handlers } from './types.js';

/** @internal The cache analytics and the cache actions (run a warmer, invalidate a tag). */
export function cacheHandlers({
  enterprise,
  log,
}: HandlerContext): Handlers<'cacheAnalytics' | 'runCacheWarmer' | 'invalidateCacheTag'> {
  return {
    cacheAnalytics: async (c) => {
      const cluster = clusterScope(enterprise, c.req.query('scope'));
      if (cluster !== undefined) return json(await clusterAnswer(cluster.cache()));
      const cache = enterprise.peek('cache');
      if (cache === undefined) return json(disabledCacheAnalytics());
      return json({ enabled: true, ...cache.analytics(), warmers: cache.warmers() });
    },
    runCacheWarmer: async (c) => {
      const name = c.req.param('name') ?? '';
      // Warmers are registered on a built cache: an unbuilt one has none, and is not built to say so.
      const cache = enterprise.peek('cache');
      if (cache === undefined || !cache.warmers().includes(name)) {
        throw new MonitoringRequestError(404, 'E_NOT_FOUND', `no cache warmer is named "${name}"`);
      }
      const [result] = await cache.warm(name);
      if (result === undefined || !result.ok) {
        throw new MonitoringRequestError(
          500,
          'E_ACTION_FAILED',
          `the cache warmer "${name}" failed; see the logs`,
        );
      }
      log.info({ action: 'run-cache-warmer', name }, 'cache warmer run from the monitoring router');
      return json({ ok: true, name, durationMs: result.durationMs });
    },
    invalidateCacheTag: async (c) => {
      const tag = c.req.param('tag') ?? '';
      const namespace = c.req.query('namespace');
      await cacheForAction(enterprise).invalidateTags(
        [tag],
        namespace === undefined ? {} : { namespace },
      );
      log.info({ action: 'invalidate-cache-tag', tag, namespace }, 'cache tag invalidated');
      return json({ ok: true, tag, namespace: namespace ?? null });
    },
  };
}

/**
 * The cache an action acts on, built if needed: invalidating a tag reaches every instance through
 * the shared tiers even where this process never used its cache. A process whose entries leave the
 * cache module out answers 501.
 */
function cacheForAction(enterprise: MonitoredInstance) {
  try {
    return enterprise.cache;
  } catch (error) {
    if (!(error instanceof LifecycleError)) throw error;
    throw new MonitoringRequestError(501, 'E_MODULE_NOT_ENABLED', error.message);
  }
}

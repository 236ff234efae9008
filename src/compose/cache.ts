// How an instance builds its cache: from the instance's configuration and its `cache` options.
import { Cache } from '../cache/cache.js';
import { cacheMetricFamilies } from '../cache/metrics.js';
import type { LoggerLike } from '../core/logger.js';
import { registerModule } from '../enterprise.js';

registerModule('cache', {
  build(enterprise, options) {
    const cache = options.cache ?? {};
    return new Cache({
      ...cache,
      defaultTtl: enterprise.config.cache.defaultTtlMs / 1000,
      maxSize: enterprise.config.cache.maxSize,
      redisUrl:
        cache.redisUrl ?? (cache.redis === undefined ? enterprise.config.redisUrl : undefined),
      logger: enterprise.logger as unknown as LoggerLike,
      clock: enterprise.config.clock,
    });
  },
  start: (cache) => cache.start(),
  stop: (cache) => cache.close(),
  metrics: (prefix, cache) => cacheMetricFamilies(prefix, cache?.analytics()),
});

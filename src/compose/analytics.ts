// How an instance builds its analytics and its metrics history: the instance's clock, logger,
// environment (ANALYTICS_HASH_KEY) and Redis, the performance monitor's operations and system
// metrics, and the cache's and tasks' figures read through peek() (never building them).

import { ClusterCopyStore } from '../analytics/cluster/cluster-copy-store.js';
import { ClusterView } from '../analytics/cluster/cluster-view.js';
import { cacheCounters, taskCounters } from '../analytics/cluster/counters.js';
import { Analytics } from '../analytics/events/analytics.js';
import { AnalyticsConfigError } from '../analytics/events/errors.js';
import {
  compileMiddlewareAnalytics,
  MIDDLEWARE_ANALYTICS_SERVICE,
} from '../analytics/events/middleware-option.js';
import { type AnalyticsOptions, resolveAnalyticsOptions } from '../analytics/events/options.js';
import { resolveHashKey } from '../analytics/events/pseudonym.js';
import { cacheFigures, systemFigures, taskFigures } from '../analytics/history/figures.js';
import { MemoryHistoryStore } from '../analytics/history/memory-store.js';
import { MetricsHistory } from '../analytics/history/metrics-history.js';
import { PostgresHistoryStore } from '../analytics/history/postgres-store.js';
import { RedisHistoryStore } from '../analytics/history/redis-store.js';
import type { HistoryStore } from '../analytics/history/types.js';
import type {
  ClusterModuleOptions,
  EnterpriseAnalyticsOptions,
  HistoryModuleOptions,
} from '../analytics/module-options.js';
import { describeValue } from '../core/errors.js';
import { provideService } from '../core/module-services.js';
import { type Enterprise, type EnterpriseOptions, registerModule } from '../enterprise.js';
import type { MetricFamily } from '../performance/prometheus.js';

// The adapters' middleware checks its `analytics` option with the module's own rules, and only
// where an entry including the module was loaded.
provideService(MIDDLEWARE_ANALYTICS_SERVICE, compileMiddlewareAnalytics);

const given = (options: EnterpriseOptions): EnterpriseAnalyticsOptions =>
  options.analytics === undefined || options.analytics === false ? {} : options.analytics;

const historyOf = (options: EnterpriseOptions): HistoryModuleOptions => {
  const history = given(options).history;
  return history === undefined || history === false ? {} : history;
};

function invalid(field: string, value: unknown, expected: string): AnalyticsConfigError {
  return new AnalyticsConfigError(
    `analytics option ${field}=${describeValue(value)} is invalid: expected ${expected}`,
    { field, value, expected },
  );
}

const clusterOf = (options: EnterpriseOptions): ClusterModuleOptions | undefined => {
  const cluster = given(options).cluster;
  return cluster === undefined || cluster === false ? undefined : cluster;
};

/** The tracking options of the instance: its clock, environment and, for `store: 'redis'`, its Redis. */
function trackingOptions(enterprise: Enterprise, options: EnterpriseOptions): AnalyticsOptions {
  const { history: _history, cluster: _cluster, capacity: _capacity, ...settings } = given(options);
  const redisStore = settings.store === 'redis' && settings.redis === undefined;
  return {
    ...settings,
    ...(redisStore && settings.redisUrl === undefined && enterprise.config.redisUrl !== undefined
      ? { redisUrl: enterprise.config.redisUrl }
      : {}),
    clock: settings.clock ?? enterprise.config.clock,
    ...(settings.env === undefined && options.env !== undefined ? { env: options.env } : {}),
  };
}

/** The history store the options name; `owned` when the instance opened it (and closes it). */
function historyStore(
  enterprise: Enterprise,
  options: EnterpriseOptions,
): { store: HistoryStore; owned: boolean } {
  const settings = historyOf(options);
  const store = settings.store ?? 'memory';
  const shared = {
    ...(settings.retention === undefined ? {} : { retention: settings.retention }),
    ...(settings.maxPoints === undefined ? {} : { maxPoints: settings.maxPoints }),
    clock: enterprise.config.clock,
  };
  if (typeof store === 'object' && store !== null) {
    if (typeof store.write !== 'function' || typeof store.query !== 'function') {
      throw invalid('history.store', store, 'a HistoryStore');
    }
    return { store, owned: false };
  }
  if (store === 'memory') return { store: new MemoryHistoryStore(shared), owned: true };
  if (store === 'redis') {
    const url = settings.redisUrl ?? enterprise.config.redisUrl;
    if (settings.redis === undefined && url === undefined) {
      throw invalid('history.redisUrl', url, "a Redis URL (or REDIS_URL) for the 'redis' store");
    }
    const log = enterprise.logger.child({ module: 'history' });
    return {
      store: new RedisHistoryStore({
        ...shared,
        ...(settings.redis === undefined ? { url } : { client: settings.redis }),
        ...(settings.prefix === undefined ? {} : { prefix: settings.prefix }),
        onError: (error) => log.warn({ err: error.message }, 'history: Redis connection error'),
      }),
      owned: true,
    };
  }
  if (store === 'postgres') {
    if (settings.pool === undefined && settings.connectionString === undefined) {
      throw invalid(
        'history.connectionString',
        undefined,
        "a connection string or a pool for the 'postgres' store",
      );
    }
    return {
      store: new PostgresHistoryStore({
        ...shared,
        ...(settings.pool === undefined
          ? { connectionString: settings.connectionString }
          : { pool: settings.pool }),
        ...(settings.table === undefined ? {} : { table: settings.table }),
      }),
      owned: true,
    };
  }
  throw invalid('history.store', store, "'memory', 'redis', 'postgres' or a HistoryStore");
}

registerModule('analytics', {
  validate(enterprise, options) {
    const analytics = options.analytics;
    if (analytics === undefined || analytics === false) return;
    if (analytics === null || typeof analytics !== 'object') {
      throw invalid('analytics', analytics, 'analytics options or false');
    }
    // Checks the options without opening a store or starting a timer.
    const resolved = resolveAnalyticsOptions(trackingOptions(enterprise, options));
    const shared =
      resolved.store.kind === 'redis' ||
      (resolved.store.kind === 'given' && resolved.store.store.shared === true);
    resolveHashKey(resolved.hashKey, resolved.hashKeyFromEnv, shared);
    const cluster = analytics.cluster;
    if (cluster !== undefined && cluster !== false) {
      if (cluster === null || typeof cluster !== 'object') {
        throw invalid('cluster', cluster, 'cluster options or false');
      }
      if (
        cluster.redis === undefined &&
        (cluster.redisUrl ?? enterprise.config.redisUrl) === undefined
      ) {
        throw invalid(
          'cluster.redisUrl',
          undefined,
          'a Redis URL (or REDIS_URL) for the cluster view',
        );
      }
    }
    const history = analytics.history;
    if (history !== undefined && history !== false) {
      if (history === null || typeof history !== 'object') {
        throw invalid('history', history, 'history options or false');
      }
      const store = history.store ?? 'memory';
      if (typeof store !== 'object' && !['memory', 'redis', 'postgres'].includes(store)) {
        throw invalid('history.store', store, "'memory', 'redis', 'postgres' or a HistoryStore");
      }
      if (
        store === 'redis' &&
        history.redis === undefined &&
        (history.redisUrl ?? enterprise.config.redisUrl) === undefined
      ) {
        throw invalid(
          'history.redisUrl',
          undefined,
          "a Redis URL (or REDIS_URL) for the 'redis' store",
        );
      }
      if (
        store === 'postgres' &&
        history.pool === undefined &&
        history.connectionString === undefined
      ) {
        throw invalid(
          'history.connectionString',
          undefined,
          "a connection string or a pool for the 'postgres' store",
        );
      }
    }
  },
  build(enterprise, options) {
    return new Analytics({
      ...trackingOptions(enterprise, options),
      logger: given(options).logger ?? enterprise.logger.child({ module: 'analytics' }),
    });
  },
  // Its pipeline runs from construction; close() writes what is buffered.
  start: () => undefined,
  stop: (analytics) => analytics.close(),
  buildAtStart: (options) => options.analytics !== undefined && options.analytics !== false,
  metrics: (prefix, analytics) => analyticsMetricFamilies(prefix, analytics),
});

registerModule('history', {
  build(enterprise, options) {
    const settings = historyOf(options);
    const { store, owned } = historyStore(enterprise, options);
    return new MetricsHistory({
      // With a cluster view, each minute is also copied to the deployment's history.
      store:
        clusterOf(options) === undefined
          ? store
          : new ClusterCopyStore(store, () => enterprise.peek('cluster')),
      ownsStore: owned,
      operations: enterprise.performance,
      figures: [
        () => systemFigures(enterprise.performance.system()),
        () => {
          const cache = enterprise.peek('cache');
          return cache === undefined ? [] : cacheFigures(cache.analytics());
        },
        async () => {
          const tasks = enterprise.peek('tasks');
          return tasks === undefined ? [] : taskFigures(await tasks.stats());
        },
      ],
      ...(settings.sampleIntervalMs === undefined
        ? {}
        : { sampleIntervalMs: settings.sampleIntervalMs }),
      ...(settings.maxPendingMinutes === undefined
        ? {}
        : { maxPendingMinutes: settings.maxPendingMinutes }),
      clock: enterprise.config.clock,
      logger: enterprise.logger,
    });
  },
  start: (history) => {
    history.start();
    return undefined;
  },
  stop: (history) => history.close(),
  buildAtStart: (options) =>
    options.analytics !== undefined &&
    options.analytics !== false &&
    options.analytics.history !== false,
});

registerModule('cluster', {
  build(enterprise, options) {
    const settings = clusterOf(options) ?? {};
    const url = settings.redisUrl ?? enterprise.config.redisUrl;
    if (settings.redis === undefined && url === undefined) {
      throw invalid('cluster.redisUrl', url, 'a Redis URL (or REDIS_URL) for the cluster view');
    }
    const log = enterprise.logger.child({ module: 'cluster' });
    const { redis, redisUrl: _url, ...rest } = settings;
    return new ClusterView({
      ...rest,
      ...(redis === undefined ? { url } : { client: redis }),
      operations: enterprise.performance,
      cache: () => {
        const cache = enterprise.peek('cache');
        return cache === undefined ? undefined : cacheCounters(cache.analytics());
      },
      tasks: async () => {
        const tasks = enterprise.peek('tasks');
        return tasks === undefined ? undefined : taskCounters(await tasks.stats());
      },
      onError: (error) => log.warn({ err: error.message }, 'cluster: Redis connection error'),
      clock: enterprise.config.clock,
      logger: enterprise.logger,
    });
  },
  start: (cluster) => {
    cluster.start();
    return undefined;
  },
  stop: (cluster) => cluster.stop(),
  buildAtStart: (options) => clusterOf(options) !== undefined,
});

/** The tracking pipeline's counters, declared (empty) before the module is built. */
function analyticsMetricFamilies(prefix: string, analytics: Analytics | undefined): MetricFamily[] {
  const stats = analytics?.stats();
  const family = (
    name: string,
    help: string,
    type: MetricFamily['type'],
    samples: [Record<string, string>, number][],
  ): MetricFamily => ({
    name: `${prefix}${name}`,
    help,
    type,
    samples: samples.map(([labels, value]) => ({ name: `${prefix}${name}`, labels, value })),
  });
  return [
    family(
      'analytics_events_tracked_total',
      'Events accepted by track().',
      'counter',
      stats === undefined ? [] : [[{}, stats.tracked]],
    ),
    family(
      'analytics_events_dropped_total',
      'Events dropped, by reason.',
      'counter',
      stats === undefined
        ? []
        : Object.entries(stats.dropped).map(([reason, n]) => [{ reason }, n]),
    ),
    family(
      'analytics_events_buffered',
      'Events waiting to be written to the store.',
      'gauge',
      stats === undefined ? [] : [[{}, stats.buffered]],
    ),
  ];
}

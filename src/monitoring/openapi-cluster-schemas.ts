// The schemas of the `scope=cluster` answers in the OpenAPI document, after
// src/analytics/cluster/types.ts.
import { arr, int, nullable, num, obj, ref, type Schema, str, time } from './openapi-builders.js';

const ms = nullable('number');
const windowStats = obj({
  count: int,
  errors: int,
  errorRate: num,
  slow: int,
  min: ms,
  max: ms,
  mean: ms,
  p50: ms,
  p95: ms,
  p99: ms,
  p999: ms,
  totalMs: num,
  throughput: { ...num, description: 'Calls per second: the sum of every instance rate' },
  coveredSeconds: num,
});
const windows = obj({ '1m': windowStats, '5m': windowStats, '15m': windowStats, all: windowStats });
const labels: Schema = { type: 'object', additionalProperties: str };
const header = {
  scope: { type: 'string', enum: ['cluster'] },
  generatedAt: time,
  instances: arr(ref('ClusterInstance')),
};
const throughput = obj({ completedPerSecond: num, failedPerSecond: num });
const totals = obj({ completed: int, failed: int, retried: int, dead: int });
const counts = { hits: int, misses: int };

/**
 * @internal The cluster answers; those that extend an instance answer (tasks, history series) are
 * built from its schema, given here so the two stay one.
 */
export function clusterSchemas(base: {
  taskFigures: Record<string, Schema>;
  analytics: Record<string, Schema>;
}): Record<string, Schema> {
  const series = (name: string) => {
    const schema = base.analytics[name] as {
      properties: Record<string, Schema>;
      required: string[];
    };
    return obj({
      ...schema.properties,
      scope: header.scope,
      byInstance: arr(obj({ instance: str, points: schema.properties.points! })),
    });
  };
  return {
    ClusterInstance: obj({
      id: str,
      host: str,
      pid: int,
      startedAt: time,
      lastSeenAt: { ...time, description: 'Its last heartbeat' },
    }),
    ClusterPerformanceSummary: obj({
      ...header,
      operations: arr(
        obj({
          name: str,
          labels,
          windows: { ...windows, description: 'Merged: percentiles read from the summed buckets' },
          instances: arr(obj({ instance: str, windows })),
        }),
      ),
    }),
    ClusterCacheAnalytics: obj({
      ...header,
      enabled: { type: 'boolean', description: 'Whether any instance has a cache' },
      ...counts,
      hitRatio: num,
      tiers: arr(obj({ name: str, ...counts, sets: int, errors: int })),
      namespaces: {
        type: 'object',
        additionalProperties: obj({ ...counts, sets: int, loaderErrors: int }),
      },
      byInstance: arr(obj({ instance: str, ...counts, hitRatio: num })),
    }),
    ClusterTasksMonitoring: obj({
      ...base.taskFigures,
      ...header,
      throughput: { ...throughput, description: 'Summed over the instances alive' },
      totals,
      byInstance: arr(obj({ instance: str, throughput, totals })),
    }),
    ClusterHistorySeries: series('HistorySeries'),
    ClusterMetricHistorySeries: series('MetricHistorySeries'),
  };
}

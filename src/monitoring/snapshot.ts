import type { CacheAnalytics } from '../cache/types.js';
import type { PerformanceMonitor } from '../performance/performance-monitor.js';
import type { SystemMetricsSnapshot } from '../performance/types.js';
import type { HealthReport } from '../resilience/health-registry.js';
import type { AlertsSnapshot } from './alert-stream.js';
import type { SecuritySnapshot } from './security-stream.js';

/**
 * What the real-time stream (`GET /performance/realtime`) sends every interval, as the `data` of an
 * `event: snapshot`: one JSON object that holds everything the dashboard draws. Every figure is
 * computed once per interval and shared by every connected client.
 *
 * Times are ISO 8601 strings, durations milliseconds (fields ending in `Ms`) or seconds (fields
 * ending in `Seconds`), rates per second unless the name says otherwise. A figure that cannot be
 * known yet is `null`, never `0`.
 *
 * @example
 * ```ts
 * const response = await fetch('/api/v1/monitoring/performance/realtime', { headers: { authorization } });
 * // for each `data:` line of the stream:
 * const snapshot = JSON.parse(data) as MonitoringSnapshot;
 * chart.push(snapshot.performance.requests.p95);
 * ```
 */
export interface MonitoringSnapshot {
  /** The event's sequence number: the same as the SSE `id:` line of the event that carried it. */
  seq: number;
  /** When the snapshot was computed. */
  time: string;
  /** Seconds since the process started. */
  uptimeSeconds: number;
  /** The overall and per-component health, as `GET /health` answers it (from its short cache). */
  health: HealthSnapshot;
  /** Process-wide figures. */
  system: SystemSnapshot;
  /** Request and operation timings. */
  performance: PerformanceSnapshot;
  /**
   * Cache figures; `enabled: false` with empty figures while the instance has not built its cache,
   * `null` once the instance is shut down.
   */
  cache: CacheSnapshot | null;
  /**
   * Task figures; `enabled: false` with empty figures while the instance has not built its tasks
   * module, `null` when the backend could not be read.
   */
  tasks: TasksSnapshot | null;
  /**
   * How many alerts are in each state; `enabled: false` with every count 0 while the instance has
   * not built its alerts module, `null` when they could not be read. Each transition is also sent
   * as it happens, as an `event: alert` (see {@link AlertStreamEvent}).
   */
  alerts: AlertsSnapshot | null;
  /**
   * The security score last evaluated and the window's threats, refusals and bans; `enabled: false`
   * while the instance has not built its security module, `null` when it could not be read. Its
   * events are also sent as they happen, at a bounded rate, as `event: security` (see
   * {@link SecurityStreamEvent}).
   */
  security: SecuritySnapshot | null;
}

export type { HealthComponent, HealthStatus } from '../resilience/health-registry.js';
export type { AlertStreamEvent, AlertsSnapshot } from './alert-stream.js';
export type {
  SecuritySnapshot,
  SecurityStreamEvent,
  SecurityStreamEventKind,
} from './security-stream.js';

/** The health part of a snapshot, and the body of `GET /health`. */
export type HealthSnapshot = HealthReport;

/** Process-wide figures of a snapshot. */
export interface SystemSnapshot {
  /** When the system sampler took its last sample; `null` when system metrics are turned off. */
  sampledAt: string | null;
  cpu: {
    /** CPU time used since the previous sample as a percentage of one core; `null` before a sample. */
    percent: number | null;
  };
  /** Bytes, read at snapshot time. */
  memory: {
    rss: number;
    heapUsed: number;
    heapTotal: number;
    external: number;
  };
  eventLoop: {
    /** Event-loop delay since the previous sample; `null` before a sample. */
    delayP50Ms: number | null;
    delayP99Ms: number | null;
    delayMaxMs: number | null;
    /** Fraction of time the loop was busy since the previous sample (0 to 1); `null` before a sample. */
    utilization: number | null;
  };
}

/** Request and operation timings of a snapshot, over the last minute. */
export interface PerformanceSnapshot {
  /** HTTP requests timed by the framework adapters (operation `http.request`), all routes merged. */
  requests: {
    /** Requests per second over the last minute. */
    rate: number;
    /** Requests in the last minute. */
    count: number;
    /** Latency percentiles in milliseconds; `null` without requests. */
    p50: number | null;
    p95: number | null;
    p99: number | null;
    /** Requests that failed (status 5xx, or a thrown error) in the last minute. */
    errors: number;
    /** `errors / count`, 0 without requests. */
    errorRate: number;
  };
  /** The slowest operations of the last minute by p95, slowest first (at most 10). */
  operations: OperationSnapshot[];
}

/** One operation (a name and label set) in {@link PerformanceSnapshot.operations}. */
export interface OperationSnapshot {
  name: string;
  labels: Record<string, string>;
  /** Calls in the last minute. */
  count: number;
  errors: number;
  /** Calls per second over the last minute. */
  rate: number;
  /** Milliseconds. */
  mean: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** Cache figures of a snapshot (counters since the cache was built). */
export interface CacheSnapshot {
  /**
   * Whether the instance has built its cache. Monitoring never builds it: until the application
   * uses the cache, this is `false` and the figures are empty (no tier is listed).
   */
  enabled: boolean;
  hits: number;
  misses: number;
  /** `hits / (hits + misses)`, 0 before any lookup. */
  hitRatio: number;
  /** One entry per tier, fastest first. */
  tiers: CacheTierSnapshot[];
  /** One entry per namespace used, by name. */
  namespaces: CacheNamespaceSnapshot[];
}

/** One cache tier in {@link CacheSnapshot.tiers}. */
export interface CacheTierSnapshot {
  /** `memory`, `redis`, `postgres`, `sqlite`... */
  name: string;
  hits: number;
  misses: number;
  /** Hits of this tier over lookups that reached it; 0 before any. */
  hitRatio: number;
  errors: number;
  timeouts: number;
  /** `closed` (healthy), `open` (skipped) or `half-open` (probing). */
  circuit: 'closed' | 'open' | 'half-open';
  /** p95 latency of the tier's operations in milliseconds; `null` for local tiers and before any call. */
  latencyP95Ms: number | null;
}

/** One namespace in {@link CacheSnapshot.namespaces}. */
export interface CacheNamespaceSnapshot {
  name: string;
  hits: number;
  misses: number;
  hitRatio: number;
  /** Stale values served during a refresh or an outage (grace). */
  staleServed: number;
  loaderErrors: number;
}

/** Task figures of a snapshot. */
export interface TasksSnapshot {
  /**
   * Whether the instance has built its tasks module. Monitoring never builds it: until the
   * application submits a task, registers a handler or reads the module, this is `false`, the
   * backend is not asked and the figures are empty.
   */
  enabled: boolean;
  /** One entry per known queue. */
  queues: TaskQueueSnapshot[];
  /** Worker pools of every process whose heartbeat has not expired. */
  workers: TaskWorkerSnapshot[];
  /** The backend's name (`memory`, `redis`); `null` when unknown. */
  backend: string | null;
  /** Attempts finished per second by this process over the last minute; `null` when unknown. */
  throughput: { completedPerSecond: number; failedPerSecond: number } | null;
  /**
   * Failure analysis: failed attempts of this process grouped by task name and error, most frequent
   * first (at most 20).
   */
  failures: TaskFailureSnapshot[];
  /**
   * The same grouping over the most recent dead tasks of every queue, from every process (what a
   * dashboard in a process without workers can still show).
   */
  deadLetterFailures: TaskFailureSnapshot[];
  /** The most recent dead tasks, newest first (at most 20 over all queues). */
  deadLetters: DeadLetterSnapshot[];
  /** When these figures were read from the task backend. */
  readAt: string;
  /**
   * `true` when these are the figures of an earlier read, read at `readAt`: the backend has not
   * answered the latest read within the health timeout, and no new read starts until it does.
   */
  stale: boolean;
}

/** One queue in {@link TasksSnapshot.queues}. */
export interface TaskQueueSnapshot {
  name: string;
  waiting: number;
  delayed: number;
  blocked: number;
  active: number;
  completed: number;
  dead: number;
  paused: boolean;
  /** Age of the oldest task ready and waiting, in seconds; `null` when none waits. */
  oldestWaitingSeconds: number | null;
  /** Tasks of the queue completed per second by this process over the last minute; `null` when unknown. */
  throughput: number | null;
  /** Its groups and limits, when it has some: the deepest groups by name, the rest as "other". */
  groups?: TaskGroupsSnapshot;
}

/** The groups of a queue in {@link TaskQueueSnapshot.groups}. */
export interface TaskGroupsSnapshot {
  /** Groups with work, held tasks, paused or waiting out a limit. */
  total: number;
  waiting: number;
  active: number;
  /** Starts per window of the queue, and of each group; `null` when unlimited. */
  rateLimit: { limit: number; perMs: number } | null;
  groupRateLimit: { limit: number; perMs: number } | null;
  /** Tasks of one group held at once by default; 0: no cap. */
  groupMaxConcurrency: number;
  /** The deepest groups (at most 10). */
  top: TaskGroupSnapshot[];
  /** The other groups, summed. */
  other: { groups: number; waiting: number; active: number };
}

/** One group in {@link TaskGroupsSnapshot.top}. */
export interface TaskGroupSnapshot {
  group: string;
  waiting: number;
  active: number;
  paused: boolean;
  /** While it waits out a rate limit: until when (ISO time); `null` otherwise. */
  limitedUntil: string | null;
  weight: number;
  /** 0: no cap. */
  maxConcurrency: number;
  /** Its tasks completed per second by this process over the last minute. */
  throughput: number;
}

/** One worker pool in {@link TasksSnapshot.workers}. */
export interface TaskWorkerSnapshot {
  id: string;
  queue: string;
  host: string;
  pid: number;
  concurrency: number;
  /** Tasks it holds now. */
  active: number;
  processed: number;
  failed: number;
  /** `false` when it stopped heartbeating, or holds tasks without completing any for too long. */
  healthy: boolean;
  /** Why it is unhealthy. */
  reason?: string;
  lastHeartbeatAt: string;
}

/** One group of failures in {@link TasksSnapshot.failures}. */
export interface TaskFailureSnapshot {
  /** Task (handler) name. */
  name: string;
  /** The error's name and message (numbers and ids replaced by `#`), as grouped by the tasks module. */
  error: string;
  count: number;
  /** When the last failure of the group happened; `null` when unknown. */
  lastAt: string | null;
}

/** One dead task in {@link TasksSnapshot.deadLetters}. */
export interface DeadLetterSnapshot {
  id: string;
  /** Task (handler) name. */
  name: string;
  queue: string;
  /** The last attempt's error message. */
  error: string;
  attempts: number;
  /** When it died; `null` when unknown. */
  finishedAt: string | null;
}

const EMPTY_LATENCY = { p50: null, p95: null, p99: null } as const;

/** @internal The system part of a snapshot from the sampler's last sample (memory is read now). */
export function toSystemSnapshot(sample: SystemMetricsSnapshot | null): SystemSnapshot {
  const memory = process.memoryUsage();
  return {
    sampledAt: sample?.sampledAt ?? null,
    cpu: { percent: sample?.cpu.percent ?? null },
    memory: {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      external: memory.external,
    },
    eventLoop: {
      delayP50Ms: sample?.eventLoop.delayP50Ms ?? null,
      delayP99Ms: sample?.eventLoop.delayP99Ms ?? null,
      delayMaxMs: sample?.eventLoop.delayMaxMs ?? null,
      utilization: sample?.eventLoop.utilization ?? null,
    },
  };
}

/** @internal The performance part of a snapshot, over the `1m` window. */
export function toPerformanceSnapshot(monitor: PerformanceMonitor): PerformanceSnapshot {
  const requests = monitor.getStats('http.request')?.windows['1m'];
  const { byLatency } = monitor.bottlenecks({ window: '1m', limit: 10 });
  const operations: OperationSnapshot[] = [];
  for (const entry of byLatency) {
    const stats = monitor.getStats(entry.name, entry.labels)?.windows['1m'];
    if (stats === undefined) continue;
    operations.push({
      name: entry.name,
      labels: entry.labels,
      count: stats.count,
      errors: stats.errors,
      rate: stats.throughput,
      mean: stats.mean,
      p50: stats.p50,
      p95: stats.p95,
      p99: stats.p99,
      max: stats.max,
    });
  }
  return {
    requests:
      requests === undefined
        ? { rate: 0, count: 0, ...EMPTY_LATENCY, errors: 0, errorRate: 0 }
        : {
            rate: requests.throughput,
            count: requests.count,
            p50: requests.p50,
            p95: requests.p95,
            p99: requests.p99,
            errors: requests.errors,
            errorRate: requests.errorRate,
          },
    operations,
  };
}

/** @internal The cache part of a snapshot. */
export function toCacheSnapshot(analytics: CacheAnalytics): CacheSnapshot {
  return {
    enabled: true,
    hits: analytics.hits,
    misses: analytics.misses,
    hitRatio: analytics.hitRatio,
    tiers: analytics.tiers.map((tier) => ({
      name: tier.name,
      hits: tier.hits,
      misses: tier.misses,
      hitRatio: tier.hits + tier.misses === 0 ? 0 : tier.hits / (tier.hits + tier.misses),
      errors: tier.errors,
      timeouts: tier.timeouts,
      circuit: tier.circuit,
      latencyP95Ms: tier.latency.p95,
    })),
    namespaces: Object.entries(analytics.namespaces)
      .map(([name, ns]) => ({
        name,
        hits: ns.hits,
        misses: ns.misses,
        hitRatio: ns.hitRatio,
        staleServed: ns.staleServed,
        loaderErrors: ns.loaderErrors,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

/** @internal The cache part of a snapshot of an instance that has not built its cache. */
export function disabledCacheSnapshot(): CacheSnapshot {
  return { enabled: false, hits: 0, misses: 0, hitRatio: 0, tiers: [], namespaces: [] };
}

/** @internal The body of `/cache/analytics` for an instance that has not built its cache. */
export function disabledCacheAnalytics(): CacheAnalytics & { enabled: false; warmers: string[] } {
  return {
    enabled: false,
    hits: 0,
    misses: 0,
    hitRatio: 0,
    tiers: [],
    namespaces: {},
    codec: {
      encoded: 0,
      decoded: 0,
      decodeErrors: 0,
      decodeErrorsByReason: {},
      compressed: 0,
      compressionRatio: 1,
    },
    bus: null,
    warmers: [],
  };
}

/** @internal The task part of a snapshot of an instance that has not built its tasks module. */
export function disabledTasksSnapshot(): TasksSnapshot {
  return {
    enabled: false,
    backend: null,
    queues: [],
    workers: [],
    throughput: null,
    failures: [],
    deadLetterFailures: [],
    deadLetters: [],
    readAt: new Date().toISOString(),
    stale: false,
  };
}

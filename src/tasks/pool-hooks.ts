import type { Emitter } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { CallSite } from '../performance/call-site.js';
import type { PerformanceMonitor } from '../performance/performance-monitor.js';
import type { Tracer } from '../performance/tracer.js';
import type { TaskEvents } from './api-types.js';
import type { TaskDefinition } from './registry.js';
import type { SandboxPools } from './sandbox/pools.js';
import type { TaskAnalytics } from './task-analytics.js';
import { definitionOf } from './task-build.js';
import { traceExecution } from './task-tracing.js';
import type { TaskBackend, TaskRecord } from './types.js';
import type { PoolHooks, ResolvedHandler } from './worker-pool.js';

/** @internal Where a task manager records the durations of attempts. */
export class TaskDurations {
  readonly #performance: PerformanceMonitor;
  readonly #log: Logger;
  /** Call sites per queue and task name (see `record`). */
  readonly #sites = new Map<string, Map<string, CallSite>>();

  constructor(performance: PerformanceMonitor, log: Logger) {
    this.#performance = performance;
    this.#log = log;
  }

  /**
   * Records an attempt's duration as the `task` operation, labelled with the task and queue: what
   * `performance.record` does, through a call site per task name and queue whose labels are
   * validated once and whose series is looked up once (record() validates and sorts the labels
   * on every call, which cost as much as the rest of the engine's bookkeeping of a no-op task).
   */
  record(task: TaskRecord, durationMs: number, error: boolean): void {
    try {
      let byName = this.#sites.get(task.queue);
      if (byName === undefined) {
        byName = new Map();
        this.#sites.set(task.queue, byName);
      }
      let site = byName.get(task.name);
      if (site === undefined) {
        site = new CallSite('task', {
          labels: { task: task.name, queue: task.queue },
          thresholdMs: Number.POSITIVE_INFINITY,
        });
        byName.set(task.name, site);
      }
      this.#performance.recordDuration(site, durationMs, error);
    } catch (cause) {
      this.#log.debug({ err: cause }, 'task duration not recorded');
    }
  }
}

/** @internal What {@link poolHooks} reports to. */
export interface PoolHookParts {
  /** The task manager, whose events the hooks emit. */
  events: Emitter<TaskEvents>;
  /** The handlers registered on the instance. */
  local: ReadonlyMap<string, TaskDefinition>;
  analytics: TaskAnalytics;
  durations: TaskDurations;
  /** The backend, once created. */
  backend: () => TaskBackend | undefined;
  /** Runs the tasks of sandboxed handlers (worker threads, child processes). */
  sandboxes: SandboxPools;
  /** Opens each attempt's consumer span. */
  tracer?: Tracer;
}

/**
 * @internal The hooks a task manager gives its worker pools: they resolve handlers, count and
 * time attempts, and turn what the pools report into the manager's events (skipping the building
 * of an event nobody listens to on the busiest ones).
 */
export function poolHooks(parts: PoolHookParts): PoolHooks {
  const { events, local, analytics, durations, tracer } = parts;
  return {
    resolve: (name): ResolvedHandler | undefined => {
      const definition = definitionOf(local, name);
      if (definition?.sandbox !== undefined) {
        return parts.sandboxes.handler(definition.name, definition.sandbox);
      }
      return definition?.resolve();
    },
    ...(tracer === undefined ? {} : { span: (task: TaskRecord) => traceExecution(tracer, task) }),
    started: (task, workerId) => {
      if (events.listenerCount('started') === 0) return;
      events.emit('started', {
        id: task.id,
        name: task.name,
        queue: task.queue,
        attempt: task.attempts,
        workerId,
      });
    },
    progress: (task, progress) => {
      events.emit('progress', { id: task.id, name: task.name, queue: task.queue, progress });
    },
    completed: (task, durationMs, result) => {
      analytics.completed(task.queue, task.name, Date.now());
      if (task.group !== undefined) analytics.groups.completed(task.queue, task.group, Date.now());
      durations.record(task, durationMs, false);
      if (events.listenerCount('completed') === 0) return;
      events.emit('completed', {
        id: task.id,
        name: task.name,
        queue: task.queue,
        attempt: task.attempts,
        durationMs,
        result,
      });
    },
    failed: (task, durationMs, error, willRetry) => {
      analytics.failed(task.queue, task.name, task.id, error, Date.now());
      durations.record(task, durationMs, true);
      events.emit('failed', {
        id: task.id,
        name: task.name,
        queue: task.queue,
        attempt: task.attempts,
        durationMs,
        error,
        willRetry,
      });
    },
    retried: (task, runAt, delayMs) => {
      analytics.totals.retried += 1;
      events.emit('retried', {
        id: task.id,
        name: task.name,
        queue: task.queue,
        attempt: task.attempts,
        runAt: new Date(runAt),
        delayMs,
      });
    },
    dead: (task, error) => {
      analytics.totals.dead += 1;
      events.emit('dead', {
        id: task.id,
        name: task.name,
        queue: task.queue,
        attempts: task.attempts,
        error,
      });
    },
    killed: (queue, ids) => {
      const backend = parts.backend();
      if (backend === undefined) return;
      for (const id of ids) {
        void backend
          .get(queue, id)
          .then((record) => {
            if (record === undefined) return;
            analytics.totals.dead += 1;
            events.emit('dead', {
              id,
              name: record.name,
              queue,
              attempts: record.attempts,
              error: record.error ?? {
                name: 'TaskDependencyError',
                message: 'a dependency failed',
              },
            });
          })
          .catch(() => {});
      }
    },
  };
}

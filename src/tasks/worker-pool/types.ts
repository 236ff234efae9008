import type { AnyFunction } from '../../core/decorators.js';
import type { TraceSpan } from '../../performance/tracer.js';
import type { TaskErrorInfo, TaskRecord } from '../types.js';

/** A handler as the pool calls it, or why there is none. @internal */
export type ResolvedHandler = { fn: AnyFunction; thisArg: unknown } | { missing: string };

/** What a pool reports to its manager. @internal */
export interface PoolHooks {
  resolve(name: string): ResolvedHandler | undefined;
  started(task: TaskRecord, workerId: string): void;
  /** Opens the span an attempt's handler runs in (the consumer span of the task's trace). */
  span?(task: TaskRecord): TraceSpan;
  progress(task: TaskRecord, progress: unknown): void;
  completed(task: TaskRecord, durationMs: number, result: unknown): void;
  failed(task: TaskRecord, durationMs: number, error: TaskErrorInfo, willRetry: boolean): void;
  retried(task: TaskRecord, runAt: number, delayMs: number): void;
  dead(task: TaskRecord, error: TaskErrorInfo): void;
  /** Dependents the backend killed because a task of this pool died. */
  killed(queue: string, ids: readonly string[]): void;
}

/** @internal */
export interface PoolSettings {
  queue: string;
  minConcurrency: number;
  maxConcurrency: number;
  initialConcurrency: number;
  leaseMs: number;
  heartbeatMs: number;
  /** Tasks claimed ahead of a free slot, so a claim round trip overlaps running tasks. */
  prefetch: number;
  /** Longest single `waitForWork`. */
  idleWaitMs: number;
  /** How often auto-scaling looks at the backlog (only when min < max). */
  scaleIntervalMs: number;
  /** Scale up when the oldest ready task has waited this long. */
  targetWaitMs: number;
}

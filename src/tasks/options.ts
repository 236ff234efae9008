import type { Duration } from '../core/duration.js';
import type { BackoffOptions } from './api-types.js';
import type { RetentionOptions } from './retention.js';
import type { BackoffSpec, TaskBackend } from './types.js';

/** Options of the task module; see docs/tasks.md. */
export interface TaskOptions {
  /** Default queue. Env: `TASK_QUEUE_NAME`. @defaultValue 'default' */
  queueName?: string;
  /** Worker slots per process and queue. Env: `TASK_WORKER_COUNT`. @defaultValue 2 */
  workerCount?: number;
  /** Retries before a task goes to the dead letter queue. Env: `TASK_MAX_RETRIES`. @defaultValue 3 */
  maxRetries?: number;
  /**
   * Where tasks are stored: a backend (`memoryTaskBackend()`, `redisTaskBackend({ ... })`), or
   * `'memory'` / `'redis'`. @defaultValue Redis when `REDIS_URL` (or `redisUrl`) is set, else memory
   */
  backend?: TaskBackend | 'memory' | 'redis';
  /** Further queues this process consumes, besides `queueName` and those its handlers name. */
  queues?: readonly string[];
  /**
   * Auto-scaling of each worker pool between `min` and `max` slots, from the backlog and how long
   * tasks wait. @defaultValue both `workerCount` (no scaling)
   */
  concurrency?: { min?: number; max?: number };
  /**
   * Tasks each pool claims ahead of its free slots, so the next claim's round trip overlaps the
   * running tasks. Higher favours throughput; 0 hands a task to a process only when a slot is free
   * (fairer across processes for long tasks, and a critical task submitted later never waits
   * behind prefetched ones). @defaultValue `workerCount`, at least 8 and at most 100
   */
  prefetch?: number;
  /** How long a worker holds a task before another may take it over, unless renewed. @defaultValue 30000 */
  leaseMs?: number;
  /** How often a worker pool reports itself (and `stats()` may call it unhealthy after 3 misses). @defaultValue 5000 */
  heartbeatMs?: number;
  /**
   * A pool holding tasks that has completed none for this long is reported unhealthy.
   * @defaultValue 300000 (five minutes)
   */
  stalledAfterMs?: number;
  /** Default per-attempt timeout of every task; 0 for none. @defaultValue 0 */
  timeout?: Duration;
  /** Default backoff between retries. @defaultValue exponential from 1 s, factor 2, up to 5 min, 20% jitter */
  backoff?: BackoffOptions | BackoffSpec['type'];
  /** How long `shutdown()` waits for running tasks before giving the rest back. @defaultValue 10 (seconds) */
  shutdownTimeout?: Duration;
  /**
   * How often the scheduler reads the schedules kept in the backend, to follow what operators
   * changed from another process (added, paused, resumed, removed). @defaultValue 5 (seconds)
   */
  scheduleSync?: Duration;
  /** Finished tasks kept by the default backends. */
  retention?: RetentionOptions;
  /**
   * Refuse to submit a task name no handler is registered for in this process, when some are
   * (`allowUnknown` submits one anyway). `false` never refuses. @defaultValue true
   */
  strictNames?: boolean;
  /**
   * Largest payload a task may have, as the UTF-8 length of its JSON text; a larger one is refused
   * at submit with `TaskPayloadError`. Every worker reads a task's payload into memory, and on Redis
   * one payload is one value moved in one reply. @defaultValue 2097152 (2 MiB)
   */
  maxPayloadBytes?: number;
}

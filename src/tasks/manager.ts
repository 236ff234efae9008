import type { Clock } from '../core/clock.js';
import { type Duration, parseDuration } from '../core/duration.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import { Emitter } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { uuid } from '../core/uuid.js';
import { CallSite } from '../performance/call-site.js';
import type { PerformanceMonitor } from '../performance/monitor.js';
import { type SelectedBackend, selectTaskBackend } from './backends/select.js';
import { resolveBackoff } from './backoff.js';
import {
  TaskFailedError,
  TaskPayloadError,
  TaskUnknownError,
  TaskWaitTimeoutError,
} from './errors.js';
import { taskMetricFamilies } from './metrics.js';
import { decodeJson, encodeJson } from './payload.js';
import { TaskPriority } from './priority.js';
import { QueuePauses } from './queue-pauses.js';
import { handlerRegistry, type TaskDefinition } from './registry.js';
import { Scheduler } from './scheduler.js';
import { checkLeaseMs, type TaskSettings } from './settings.js';
import { addInBatches, checkBatchDependencies } from './submit-batches.js';
import { FailureGroups, TaskAnalytics } from './task-analytics.js';
import type {
  QueueStats,
  SubmitArgs,
  SubmitOptions,
  TaskDefinitionOptions,
  TaskEvents,
  TaskHandler,
  TaskInfo,
  TaskName,
  TaskStats,
  TaskSubmission,
  WorkerStats,
} from './task-types.js';
import type { NewTask, QueueCounts, TaskBackend, TaskRecord, WorkerInfo } from './types.js';
import {
  checkDefinitionOptions,
  checkPriority,
  checkQueue,
  checkRetries,
  checkTaskId,
  checkTaskName,
} from './validate.js';
import { type PoolHooks, type ResolvedHandler, WorkerPool } from './worker-pool.js';

/** Options of `tasks.get`, `cancel` and the dead letter calls. */
export interface TaskLookupOptions {
  /** The queue of the task. @defaultValue the default queue, then every other queue */
  queue?: string;
}

/** Options of `tasks.waitFor`. */
export interface WaitForOptions extends TaskLookupOptions {
  /** Give up (with `TaskWaitTimeoutError`) after this long. @defaultValue no limit */
  timeout?: Duration;
}

/** Options of `enterprise.start()` that concern tasks. */
export interface TaskStartOptions {
  /** Run worker pools in this process. `false` gives a process that only submits. @defaultValue true */
  workers?: boolean;
  /** Run the scheduler's timers in this process. @defaultValue true */
  scheduler?: boolean;
}

/** Dead letter queue operations. */
export interface DeadLetters {
  /** Dead tasks, most recent first, of one queue or of every queue. */
  list(options?: TaskLookupOptions & { offset?: number; limit?: number }): Promise<TaskInfo[]>;
  /** Sends a dead task back to its queue with its attempts reset; resolves whether it was dead. */
  retry(id: string, options?: TaskLookupOptions): Promise<boolean>;
  /** Removes the dead tasks of one queue, or of every queue; resolves how many. */
  purge(options?: TaskLookupOptions): Promise<number>;
}

interface ManagerDeps {
  settings: TaskSettings;
  logger: Logger;
  performance: PerformanceMonitor;
  /** Unused since attempt durations are stamped on the monitor's own clock; kept for callers. */
  clock: Clock;
  prefix: string;
}

/** How often queue depths are refreshed for the Prometheus exposition while started. */
const METRICS_REFRESH_MS = 5_000;

/**
 * The task engine of one instance (`enterprise.tasks`): submits tasks, runs worker pools and the
 * scheduler once started, and answers questions about tasks, queues and workers.
 *
 * @example
 * ```ts
 * const enterprise = createEnterprise();
 * enterprise.tasks.register('resize_image', async ({ url }: { url: string }) => resize(url));
 * await enterprise.start();
 * const id = await enterprise.tasks.submit('resize_image', { url });
 * const done = await enterprise.tasks.waitFor(id, { timeout: '1m' });
 * ```
 */
export class TaskManager extends Emitter<TaskEvents> {
  /** Periodic tasks of this instance. */
  readonly scheduler: Scheduler;
  /** Dead letter queue operations. */
  readonly deadLetters: DeadLetters;
  readonly #settings: TaskSettings;
  readonly #log: Logger;
  readonly #performance: PerformanceMonitor;
  readonly #prefix: string;
  readonly #local = new Map<string, TaskDefinition>();
  readonly #pools = new Map<string, WorkerPool>();
  readonly #analytics: TaskAnalytics;
  readonly #waiters = new Map<string, Set<() => void>>();
  /** Where attempt durations are recorded, per queue and task name (see `#record`). */
  readonly #sites = new Map<string, Map<string, CallSite>>();
  #selected: Promise<SelectedBackend> | undefined;
  #backendNow: TaskBackend | undefined;
  #unsubscribe: (() => void) | undefined;
  #state: 'idle' | 'started' | 'stopping' | 'stopped' = 'idle';
  #workers = false;
  #timers: NodeJS.Timeout[] = [];
  #counts = new Map<string, QueueCounts>();
  #registryListener: ((definition: TaskDefinition) => void) | undefined;
  #starting: Promise<void> | undefined;
  /** Queues known to be paused, and this process's pools following them. */
  readonly #pauses = new QueuePauses((queue) => this.#pools.get(queue));

  /** @internal Built by `Enterprise`; use `enterprise.tasks`. */
  constructor(deps: ManagerDeps) {
    super();
    this.#settings = deps.settings;
    this.#log = deps.logger;
    this.#performance = deps.performance;
    this.#prefix = deps.prefix;
    this.#analytics = new TaskAnalytics(Date.now());
    this.scheduler = new Scheduler({
      backend: () => this.backend(),
      submit: async (name, payload, options) => {
        const [outcome] = await this.#submit([{ name, payload, options }]);
        return outcome!;
      },
      log: deps.logger,
    });
    this.deadLetters = {
      list: (options) => this.#listDead(options),
      retry: async (id, options) => {
        checkTaskId(id);
        const backend = await this.backend();
        for (const queue of await this.#queuesFor(options?.queue)) {
          if (await backend.retryDead(queue, id)) return true;
        }
        return false;
      },
      purge: async (options) => {
        const backend = await this.backend();
        const queues =
          options?.queue === undefined
            ? await this.#allQueues()
            : [checkQueue(options.queue, 'options.queue')];
        let purged = 0;
        for (const queue of queues) purged += await backend.purgeDead(queue);
        return purged;
      },
    };
  }

  protected override onListenerError(error: unknown, event: keyof TaskEvents): void {
    this.#log.error({ err: error, event }, 'a task event listener threw');
  }

  /** The name of the default queue (TASK_QUEUE_NAME). */
  get defaultQueue(): string {
    return this.#settings.queueName;
  }

  /** The backend, created on first use (the Redis one is imported only then). */
  async backend(): Promise<TaskBackend> {
    if (this.#backendNow !== undefined) return this.#backendNow;
    this.#selected ??= selectTaskBackend(this.#settings);
    const { backend } = await this.#selected;
    // A backend chosen by name is only known now (one given was checked with the settings).
    checkLeaseMs(this.#settings.leaseMs, backend);
    this.#backendNow = backend;
    return backend;
  }

  /**
   * Registers a handler for this instance only (it wins over a process-wide one of the same name).
   *
   * @example
   * ```ts
   * enterprise.tasks.register('ping', () => 'pong', { maxRetries: 0 });
   * ```
   */
  register(name: string, handler: TaskHandler, options?: TaskDefinitionOptions): void {
    checkTaskName(name);
    if (typeof handler !== 'function') {
      throw new InvalidArgumentError(`handler=${describeValue(handler)} is not a function`, {
        argument: 'handler',
        value: handler,
        expected: 'a function (payload, context) => result',
      });
    }
    const definition: TaskDefinition = {
      name,
      options: { ...checkDefinitionOptions(options) },
      origin: `function ${handler.name || name}`,
      identity: `instance:${name}`,
      resolve: () => ({ fn: handler, thisArg: undefined }),
    };
    this.#local.set(name, definition);
    this.#ensurePool(definition.options.queue);
  }

  /** The definition of task `name`: this instance's, else the process-wide one. */
  #definition(name: string): TaskDefinition | undefined {
    return this.#local.get(name) ?? handlerRegistry().definitions.get(name);
  }

  /**
   * Submits a task; resolves its id. The payload is stored as JSON.
   *
   * @throws TaskPayloadError for a payload JSON cannot hold; TaskUnknownError for a name no handler
   * is registered for when this process has handlers (see `strictNames`); TaskDependencyError for
   * an unknown dependency; InvalidArgumentError for bad options.
   * @example
   * ```ts
   * const id = await enterprise.tasks.submit('send_email', { to }, { priority: TaskPriority.HIGH, delay: '5m' });
   * ```
   */
  submit<N extends TaskName>(name: N, ...args: SubmitArgs<N>): Promise<string> {
    const [payload, options] = args as [unknown, SubmitOptions | undefined];
    return this.#submitOne(name, payload, options ?? {});
  }

  async #submitOne(name: string, payload: unknown, options: SubmitOptions): Promise<string> {
    const [outcome] = await this.#submit([{ name, payload, options }]);
    return outcome!.id;
  }

  /**
   * Submits many tasks in one call to the backend; resolves their ids in order. Tasks of the call
   * may depend on each other (give them `id`s); a cycle rejects the whole call.
   *
   * A call of more than 1,000 tasks is stored in batches of at most 1,000 (a task after the tasks
   * of the call it depends on), each batch atomic but not the call as a whole: when a batch fails
   * after others were stored, it rejects with `TaskSubmitIncompleteError` saying which were. An
   * unknown dependency still rejects the call before anything is stored.
   *
   * @example
   * ```ts
   * const [extract, report] = await enterprise.tasks.submitMany([
   *   { name: 'extract', payload: { month }, options: { id: `extract:${month}` } },
   *   { name: 'report', payload: { month }, options: { dependsOn: [`extract:${month}`] } },
   * ]);
   * ```
   */
  submitMany(submissions: readonly TaskSubmission[]): Promise<string[]> {
    if (!Array.isArray(submissions)) {
      return Promise.reject(
        new InvalidArgumentError(`submissions=${describeValue(submissions)} is not an array`, {
          argument: 'submissions',
          value: submissions,
          expected: 'an array of { name, payload, options }',
        }),
      );
    }
    return this.#submitIds(
      submissions.map((s, i) => {
        if (s === null || typeof s !== 'object') {
          throw new InvalidArgumentError(`submissions[${i}] is not an object`, {
            argument: `submissions[${i}]`,
            value: s,
            expected: '{ name, payload, options }',
          });
        }
        return { name: s.name, payload: s.payload, options: s.options ?? {} };
      }),
    );
  }

  async #submitIds(
    entries: readonly { name: string; payload: unknown; options: SubmitOptions }[],
  ): Promise<string[]> {
    return (await this.#submit(entries)).map((outcome) => outcome.id);
  }

  /** Builds, checks and stores the tasks; resolves each one's id and whether this call created it. */
  async #submit(
    entries: readonly { name: string; payload: unknown; options: SubmitOptions }[],
  ): Promise<{ id: string; created: boolean }[]> {
    const now = Date.now();
    const tasks = entries.map((entry, i) =>
      this.#build(
        entry.name,
        entry.payload,
        entry.options ?? {},
        now,
        entries.length > 1 ? `submissions[${i}]` : '',
      ),
    );
    checkBatchDependencies(tasks);
    if (tasks.length === 0) return [];
    const backend = await this.backend();
    const created = new Map<string, boolean>();
    await addInBatches(backend, tasks, (batch, outcomes) => {
      for (let i = 0; i < outcomes.length; i++) {
        const outcome = outcomes[i]!;
        const task = batch[i]!;
        if (!created.has(task.id)) created.set(task.id, outcome.created);
        if (!outcome.created) continue;
        this.emit('submitted', {
          id: task.id,
          name: task.name,
          queue: task.queue,
          state: outcome.state,
        });
      }
    });
    return tasks.map((t) => ({ id: t.id, created: created.get(t.id) === true }));
  }

  #build(name: string, payload: unknown, options: SubmitOptions, now: number, at: string): NewTask {
    const where = (what: string) => (at === '' ? what : `${at}.${what}`);
    checkTaskName(name, where('name'));
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError(
        `${where('options')}=${describeValue(options)} is not an object`,
        {
          argument: where('options'),
          value: options,
          expected: 'an object',
        },
      );
    }
    const definition = this.#definition(name);
    if (definition === undefined && options.allowUnknown !== true && this.#strictNames()) {
      throw new TaskUnknownError(
        `no handler is registered for task "${name}" in this process; register it (@BackgroundTask, backgroundTask(), tasks.register()), fix the name, or pass allowUnknown: true when another process handles it`,
        { name },
      );
    }
    const defaults = definition?.options ?? {};
    const o = { ...defaults, ...stripUndefined(options) };
    const queue = checkQueue(o.queue ?? this.#settings.queueName, where('options.queue'));
    const priority = checkPriority(o.priority ?? TaskPriority.NORMAL, where('options.priority'));
    const maxRetries = checkRetries(
      o.maxRetries ?? this.#settings.maxRetries,
      where('options.maxRetries'),
    );
    const timeoutMs =
      o.timeout === undefined
        ? this.#settings.timeoutMs
        : parseDuration(o.timeout, where('options.timeout'));
    const backoff =
      o.backoff === undefined
        ? this.#settings.backoff
        : resolveBackoff(o.backoff, this.#settings.backoff, where('options.backoff'));
    let runAt = now;
    if (o.runAt !== undefined) {
      const at = o.runAt instanceof Date ? o.runAt.getTime() : o.runAt;
      if (typeof at !== 'number' || !Number.isFinite(at)) {
        throw new InvalidArgumentError(
          `${where('options.runAt')}=${describeValue(o.runAt)} is invalid`,
          {
            argument: where('options.runAt'),
            value: o.runAt,
            expected: 'a Date or epoch milliseconds',
          },
        );
      }
      runAt = at;
    } else if (o.delay !== undefined) {
      runAt = now + parseDuration(o.delay, where('options.delay'));
    }
    const dependsOn = o.dependsOn ?? [];
    if (!Array.isArray(dependsOn)) {
      throw new InvalidArgumentError(
        `${where('options.dependsOn')}=${describeValue(dependsOn)} is not an array`,
        {
          argument: where('options.dependsOn'),
          value: dependsOn,
          expected: 'an array of task ids',
        },
      );
    }
    dependsOn.forEach((dep, i) => {
      checkTaskId(dep, where(`options.dependsOn[${i}]`));
    });
    const failOnDependencyFailure = o.failOnDependencyFailure ?? true;
    if (typeof failOnDependencyFailure !== 'boolean') {
      throw new InvalidArgumentError(
        `${where('options.failOnDependencyFailure')}=${describeValue(failOnDependencyFailure)} is not a boolean`,
        {
          argument: where('options.failOnDependencyFailure'),
          value: failOnDependencyFailure,
          expected: 'a boolean',
        },
      );
    }
    const id = o.id === undefined ? uuid() : checkTaskId(o.id, where('options.id'));
    const uniqueForMs =
      o.uniqueFor === undefined ? 0 : parseDuration(o.uniqueFor, where('options.uniqueFor'));
    const text = encodeJson(payload, 'payload');
    const limit = this.#settings.maxPayloadBytes;
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit: most payloads skip the count.
    if (text.length * 3 > limit) {
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > limit) {
        throw new TaskPayloadError(
          `${where('payload')} of task "${name}" is ${bytes} bytes as JSON, over the limit of ${limit} bytes (tasks.maxPayloadBytes); pass an id or a reference the handler can load instead, or raise tasks.maxPayloadBytes`,
          { name, bytes, limit },
        );
      }
    }
    const task: NewTask = {
      id,
      name,
      queue,
      payload: text,
      priority,
      runAt,
      maxRetries,
      backoff,
      timeoutMs,
      dependsOn: [...new Set(dependsOn)],
      failOnDependencyFailure,
      createdAt: now,
    };
    if (uniqueForMs > 0) task.uniqueForMs = uniqueForMs;
    return task;
  }

  #strictNames(): boolean {
    return (
      this.#settings.strictNames && (this.#local.size > 0 || handlerRegistry().definitions.size > 0)
    );
  }

  /**
   * The task, with payload and result parsed; `undefined` when unknown (or removed by retention).
   *
   * @example
   * ```ts
   * const task = await enterprise.tasks.get(id);
   * if (task?.state === 'dead') console.error(task.error?.stack);
   * ```
   */
  async get(id: string, options: TaskLookupOptions = {}): Promise<TaskInfo | undefined> {
    const record = await this.#find(id, options.queue);
    return record === undefined ? undefined : toInfo(record);
  }

  async #find(id: string, queue: string | undefined): Promise<TaskRecord | undefined> {
    checkTaskId(id);
    const backend = await this.backend();
    for (const q of await this.#queuesFor(queue)) {
      const record = await backend.get(q, id);
      if (record !== undefined) return record;
    }
    return undefined;
  }

  /** The given queue, or the default queue followed by every other known queue. */
  async #queuesFor(queue: string | undefined): Promise<string[]> {
    if (queue !== undefined) return [checkQueue(queue, 'options.queue')];
    return this.#allQueues();
  }

  async #allQueues(): Promise<string[]> {
    const backend = await this.backend();
    const known = await backend.queues();
    return [...new Set([this.#settings.queueName, ...this.#servedQueues(), ...known])];
  }

  /**
   * Resolves once the task has completed (with its info), rejects with `TaskFailedError` when it
   * ends dead or cancelled, with `TaskWaitTimeoutError` after `timeout`, and with
   * `TaskFailedError` (code E_TASK_FAILED, state `unknown`) for an id no queue holds.
   *
   * @example
   * ```ts
   * const { result } = await enterprise.tasks.waitFor(id, { timeout: '30s' });
   * ```
   */
  waitFor(id: string, options: WaitForOptions = {}): Promise<TaskInfo> {
    let timeoutMs: number;
    try {
      checkTaskId(id);
      timeoutMs =
        options.timeout === undefined ? 0 : parseDuration(options.timeout, 'options.timeout');
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<TaskInfo>((resolve, reject) => {
      let settled = false;
      let checking = false;
      let again = false;
      const timers: NodeJS.Timeout[] = [];
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        for (const timer of timers) clearTimeout(timer);
        const set = this.#waiters.get(id);
        set?.delete(check);
        if (set?.size === 0) this.#waiters.delete(id);
        settle();
      };
      const check = async (): Promise<void> => {
        if (settled) return;
        if (checking) {
          again = true;
          return;
        }
        checking = true;
        try {
          const record = await this.#find(id, options.queue);
          if (record === undefined) {
            finish(() =>
              reject(
                new TaskFailedError(
                  `no task has the id ${id} (never submitted, or removed by retention)`,
                  {
                    id,
                    state: 'unknown',
                  },
                ),
              ),
            );
          } else if (record.state === 'completed') {
            finish(() => resolve(toInfo(record)));
          } else if (record.state === 'dead' || record.state === 'cancelled') {
            const info = toInfo(record);
            const reason =
              record.error === undefined ? '' : `: ${record.error.name}: ${record.error.message}`;
            finish(() =>
              reject(
                new TaskFailedError(
                  `task ${id} (${record.name}) ended ${record.state}${reason}`,
                  { id, name: record.name, queue: record.queue, state: record.state, task: info },
                  record.error === undefined ? undefined : rebuildError(record.error),
                ),
              ),
            );
          }
        } catch (error) {
          finish(() => reject(error));
        } finally {
          checking = false;
          if (again && !settled) {
            again = false;
            void check();
          }
        }
      };
      let set = this.#waiters.get(id);
      if (set === undefined) {
        set = new Set();
        this.#waiters.set(id, set);
      }
      set.add(check);
      void this.#subscribe().catch(() => {});
      if (timeoutMs > 0) {
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(
                new TaskWaitTimeoutError(`task ${id} did not finish within ${timeoutMs} ms`, {
                  id,
                  timeoutMs,
                }),
              ),
            ),
          timeoutMs,
        );
        timer.unref?.();
        timers.push(timer);
      }
      // Events settle it promptly; a slow look now and then covers an event that was missed. This
      // timer is the one left referenced on purpose: a caller awaiting a task keeps its process
      // alive until the task ends (or the timeout), as a script that submits and waits expects.
      const poll = () => {
        if (settled) return;
        const timer = setTimeout(() => {
          if (settled) return;
          void check().then(poll);
        }, 1_000);
        timers.push(timer);
      };
      void check().then(poll);
    });
  }

  async #subscribe(): Promise<void> {
    if (this.#unsubscribe !== undefined) return;
    const backend = await this.backend();
    if (this.#unsubscribe !== undefined) return;
    this.#unsubscribe = backend.subscribe((event) => {
      if (event.type === 'paused' || event.type === 'resumed') {
        this.#pauses.heard(event);
        return;
      }
      const waiters = this.#waiters.get(event.id);
      if (waiters === undefined) return;
      for (const check of [...waiters]) void check();
    });
  }

  /**
   * Cancels a task that has not started; resolves whether it did. Dependents that fail on a
   * dependency's failure go to the dead letter queue.
   *
   * @example
   * ```ts
   * await enterprise.tasks.cancel(id);
   * ```
   */
  async cancel(id: string, options: TaskLookupOptions = {}): Promise<boolean> {
    checkTaskId(id);
    const backend = await this.backend();
    for (const queue of await this.#queuesFor(options.queue)) {
      if (await backend.cancel(queue, id)) return true;
    }
    return false;
  }

  /**
   * Stops every process from taking tasks of `queue` (default: the default queue) until resumed.
   * Once it resolves, this process starts no task of the queue: its pool stopped first, then the
   * queue was paused in the backend, then the tasks the pool had claimed ahead and not started
   * went back to the queue (their attempt not counted). Running tasks finish normally. Other
   * processes stop starting tasks when the backend's `paused` event reaches them.
   *
   * @example
   * ```ts
   * await enterprise.tasks.pause('emails');
   * ```
   */
  async pause(queue?: string): Promise<void> {
    const name = checkQueue(queue ?? this.#settings.queueName);
    const backend = await this.backend();
    await this.#pauses.pause(name, () => backend.pause(name));
  }

  /**
   * Resumes a paused queue, in every process (others when the backend's `resumed` event reaches
   * them).
   *
   * @example
   * ```ts
   * await enterprise.tasks.resume('emails');
   * ```
   */
  async resume(queue?: string): Promise<void> {
    const name = checkQueue(queue ?? this.#settings.queueName);
    const backend = await this.backend();
    await this.#pauses.resume(name, () => backend.resume(name));
  }

  /**
   * Queues, workers of every process (with health), this process's throughput and failure analysis.
   *
   * @example
   * ```ts
   * const { queues, workers, failures } = await enterprise.tasks.stats();
   * ```
   */
  async stats(): Promise<TaskStats> {
    const backend = await this.backend();
    const now = Date.now();
    const queues: QueueStats[] = [];
    const deadGroups = new FailureGroups();
    for (const name of await this.#allQueues()) {
      const [counts, workers, dead] = await Promise.all([
        backend.counts(name),
        backend.workers(name),
        backend.listDead(name, 0, 100),
      ]);
      this.#counts.set(name, counts);
      for (const task of dead) {
        if (task.error !== undefined)
          deadGroups.add(task.name, task.error, task.id, task.finishedAt ?? now);
      }
      queues.push({
        name,
        paused: counts.paused,
        waiting: counts.waiting,
        delayed: counts.delayed,
        blocked: counts.blocked,
        active: counts.active,
        completed: counts.completed,
        dead: counts.dead,
        oldestWaitingMs:
          counts.oldestWaitingAt === undefined ? 0 : Math.max(0, now - counts.oldestWaitingAt),
        throughput: this.#analytics.rate(now, name).completed,
        workers: workers.map((w) => this.#health(w, now)),
      });
    }
    const rate = this.#analytics.rate(now);
    return {
      backend: backend.name,
      queues,
      workers: queues.flatMap((q) => q.workers),
      throughput: { completedPerSecond: rate.completed, failedPerSecond: rate.failed },
      totals: { ...this.#analytics.totals },
      failures: this.#analytics.failures.list(),
      deadLetterFailures: deadGroups.list(),
    };
  }

  #health(worker: WorkerInfo, now: number): WorkerStats {
    const { heartbeatMs, stalledAfterMs } = this.#settings;
    const stats: WorkerStats = { ...worker, healthy: true };
    if (now - worker.lastHeartbeatAt > 2 * heartbeatMs) {
      stats.healthy = false;
      stats.reason = `no heartbeat for ${Math.round((now - worker.lastHeartbeatAt) / 1000)} s`;
    } else if (
      worker.active > 0 &&
      now - (worker.lastCompletedAt ?? worker.startedAt) > stalledAfterMs
    ) {
      stats.healthy = false;
      stats.reason = `holds ${worker.active} task(s) but completed none for ${Math.round((now - (worker.lastCompletedAt ?? worker.startedAt)) / 1000)} s`;
    }
    return stats;
  }

  async #listDead(
    options: TaskLookupOptions & { offset?: number; limit?: number } = {},
  ): Promise<TaskInfo[]> {
    const offset = options.offset ?? 0;
    const limit = options.limit ?? 50;
    if (
      !Number.isInteger(offset) ||
      offset < 0 ||
      !Number.isInteger(limit) ||
      limit < 0 ||
      limit > 10_000
    ) {
      throw new InvalidArgumentError(`offset=${offset}, limit=${limit} are invalid`, {
        argument: 'options',
        value: { offset, limit },
        expected: 'whole numbers: offset >= 0, 0 <= limit <= 10000',
      });
    }
    const backend = await this.backend();
    if (options.queue !== undefined) {
      return (
        await backend.listDead(checkQueue(options.queue, 'options.queue'), offset, limit)
      ).map(toInfo);
    }
    const all: TaskRecord[] = [];
    for (const queue of await this.#allQueues())
      all.push(...(await backend.listDead(queue, 0, offset + limit)));
    all.sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0));
    return all.slice(offset, offset + limit).map(toInfo);
  }

  /** @internal Queues this process consumes: the default, configured ones and those of handlers. */
  #servedQueues(): string[] {
    const queues = new Set<string>([this.#settings.queueName, ...this.#settings.queues]);
    for (const definition of handlerRegistry().definitions.values()) {
      if (definition.options.queue !== undefined) queues.add(definition.options.queue);
    }
    for (const definition of this.#local.values()) {
      if (definition.options.queue !== undefined) queues.add(definition.options.queue);
    }
    return [...queues];
  }

  /** @internal Whether anything was registered or used, so `start()` has something to run. */
  get hasHandlers(): boolean {
    return this.#local.size > 0 || handlerRegistry().definitions.size > 0;
  }

  /** @internal Starts the worker pools (unless `workers: false`), recovery and the scheduler. */
  start(options: TaskStartOptions = {}): Promise<void> {
    // A second call (the instance starting while a handler registration started it) shares the first.
    this.#starting ??= this.#start(options);
    return this.#starting;
  }

  async #start(options: TaskStartOptions): Promise<void> {
    if (this.#state !== 'idle') return;
    this.#state = 'started';
    const backend = await this.backend();
    this.#workers = options.workers !== false;
    if (this.#workers) {
      for (const queue of this.#servedQueues()) this.#ensurePool(queue);
      this.#registryListener = (definition) => this.#ensurePool(definition.options.queue);
      handlerRegistry().listeners.add(this.#registryListener);
      // Pools follow pauses made by other processes through the backend's events.
      void this.#subscribe().catch((error: unknown) => {
        this.#log.warn({ err: error }, 'subscribing to task events failed');
      });
      // One loop per process gives back tasks whose worker died (lease expired).
      const recoverMs = Math.max(100, Math.floor(this.#settings.leaseMs / 2));
      this.#every(recoverMs, () => this.#recover());
      void this.#recover();
    }
    this.#every(METRICS_REFRESH_MS, () => this.#refreshCounts());
    void this.#refreshCounts();
    if (options.scheduler !== false) this.scheduler.start();
    this.#log.debug({ backend: backend.name, workers: this.#workers }, 'tasks started');
  }

  #ensurePool(queue: string | undefined): void {
    if (this.#state !== 'started' || !this.#workers || this.#backendNow === undefined) return;
    const name = queue ?? this.#settings.queueName;
    if (this.#pools.has(name)) return;
    const s = this.#settings;
    const pool = new WorkerPool(
      this.#backendNow,
      {
        queue: name,
        minConcurrency: s.minConcurrency,
        maxConcurrency: s.maxConcurrency,
        initialConcurrency: s.workerCount,
        leaseMs: s.leaseMs,
        heartbeatMs: s.heartbeatMs,
        prefetch: s.prefetch,
        idleWaitMs: Math.min(5_000, s.leaseMs),
        scaleIntervalMs: 2_000,
        targetWaitMs: 1_000,
      },
      this.#hooks,
      this.#log,
    );
    this.#pools.set(name, pool);
    this.#pauses.apply(pool);
    pool.start();
  }

  async #recover(): Promise<void> {
    const backend = this.#backendNow;
    if (backend === undefined) return;
    for (const queue of this.#pools.keys()) {
      try {
        const recovered = await backend.recoverExpired(queue, Date.now());
        if (recovered > 0) {
          this.#log.warn(
            { queue, recovered },
            'tasks whose worker stopped were given back to the queue',
          );
        }
      } catch (error) {
        this.#log.warn({ err: error, queue }, 'recovering expired leases failed');
      }
    }
  }

  async #refreshCounts(): Promise<void> {
    const backend = this.#backendNow;
    if (backend === undefined) return;
    try {
      for (const queue of await this.#allQueues()) {
        const since = this.#pauses.changes;
        const counts = await backend.counts(queue);
        this.#counts.set(queue, counts);
        // Repairs what a lost `paused` or `resumed` event left behind.
        this.#pauses.sync(queue, counts.paused, since);
      }
    } catch (error) {
      this.#log.debug({ err: error }, 'refreshing queue counts failed');
    }
  }

  #every(ms: number, fn: () => unknown): void {
    const timer = setInterval(() => void fn(), ms);
    timer.unref?.();
    this.#timers.push(timer);
  }

  /** @internal Prometheus families: queue depth, oldest waiting age, workers, attempts. */
  metricFamilies(): ReturnType<typeof taskMetricFamilies> {
    return taskMetricFamilies(this.#prefix, {
      counts: this.#counts,
      pools: [...this.#pools.values()].map((p) => ({
        queue: p.queue,
        concurrency: p.concurrency,
        active: p.active,
      })),
      byTask: [...this.#analytics.byTask.values()],
      now: Date.now(),
    });
  }

  /**
   * @internal Stops the scheduler, stops claiming, waits for running tasks up to the shutdown
   * timeout, gives the rest back, and closes the backend if this instance opened it.
   */
  async stop(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    this.#state = 'stopping';
    this.scheduler.stop();
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    if (this.#registryListener !== undefined)
      handlerRegistry().listeners.delete(this.#registryListener);
    const deadline = Date.now() + this.#settings.shutdownTimeoutMs;
    await Promise.all([...this.#pools.values()].map((pool) => pool.stop(deadline)));
    this.#pools.clear();
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    if (this.#selected !== undefined) {
      try {
        const { backend, owned } = await this.#selected;
        if (owned) await backend.close();
      } catch (error) {
        this.#log.warn({ err: error }, 'closing the task backend failed');
      }
    }
    this.#state = 'stopped';
  }

  readonly #hooks: PoolHooks = {
    resolve: (name): ResolvedHandler | undefined => this.#definition(name)?.resolve(),
    started: (task, workerId) => {
      if (this.listenerCount('started') === 0) return;
      this.emit('started', {
        id: task.id,
        name: task.name,
        queue: task.queue,
        attempt: task.attempts,
        workerId,
      });
    },
    progress: (task, progress) => {
      this.emit('progress', { id: task.id, name: task.name, queue: task.queue, progress });
    },
    completed: (task, durationMs, result) => {
      this.#analytics.completed(task.queue, task.name, Date.now());
      this.#record(task, durationMs, false);
      if (this.listenerCount('completed') === 0) return;
      this.emit('completed', {
        id: task.id,
        name: task.name,
        queue: task.queue,
        attempt: task.attempts,
        durationMs,
        result,
      });
    },
    failed: (task, durationMs, error, willRetry) => {
      this.#analytics.failed(task.queue, task.name, task.id, error, Date.now());
      this.#record(task, durationMs, true);
      this.emit('failed', {
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
      this.#analytics.totals.retried += 1;
      this.emit('retried', {
        id: task.id,
        name: task.name,
        queue: task.queue,
        attempt: task.attempts,
        runAt: new Date(runAt),
        delayMs,
      });
    },
    dead: (task, error) => {
      this.#analytics.totals.dead += 1;
      this.emit('dead', {
        id: task.id,
        name: task.name,
        queue: task.queue,
        attempts: task.attempts,
        error,
      });
    },
    killed: (queue, ids) => {
      const backend = this.#backendNow;
      if (backend === undefined) return;
      for (const id of ids) {
        void backend
          .get(queue, id)
          .then((record) => {
            if (record === undefined) return;
            this.#analytics.totals.dead += 1;
            this.emit('dead', {
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

  /**
   * Records an attempt's duration as the `task` operation, labelled with the task and queue: what
   * `performance.record` does, through a call site per task name and queue whose labels are
   * validated once and whose series is looked up once (record() validates and sorts the labels
   * on every call, which cost as much as the rest of the engine's bookkeeping of a no-op task).
   */
  #record(task: TaskRecord, durationMs: number, error: boolean): void {
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

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] !== undefined) out[key] = value[key];
  }
  return out;
}

function parseOrText(text: string | undefined): unknown {
  try {
    return decodeJson(text);
  } catch {
    return text;
  }
}

/** @internal A backend record as users see it. */
export function toInfo(record: TaskRecord): TaskInfo {
  const info: TaskInfo = {
    id: record.id,
    name: record.name,
    queue: record.queue,
    state: record.state,
    payload: parseOrText(record.payload),
    priority: record.priority,
    attempts: record.attempts,
    maxRetries: record.maxRetries,
    dependsOn: record.dependsOn,
    createdAt: new Date(record.createdAt),
    runAt: new Date(record.runAt),
  };
  if (record.result !== undefined) info.result = parseOrText(record.result);
  if (record.error !== undefined) info.error = record.error;
  if (record.progress !== undefined) info.progress = parseOrText(record.progress);
  if (record.pendingDependencies !== undefined)
    info.pendingDependencies = record.pendingDependencies;
  if (record.workerId !== undefined) info.workerId = record.workerId;
  if (record.startedAt !== undefined) info.startedAt = new Date(record.startedAt);
  if (record.finishedAt !== undefined) info.finishedAt = new Date(record.finishedAt);
  return info;
}

function rebuildError(info: {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}): Error {
  const error = new Error(info.message);
  error.name = info.name;
  if (info.stack !== undefined) error.stack = info.stack;
  if (info.code !== undefined) (error as Error & { code?: string }).code = info.code;
  return error;
}

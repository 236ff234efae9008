import type { Clock } from '../core/clock.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import { Emitter } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { PerformanceMonitor } from '../performance/performance-monitor.js';
import type { Tracer } from '../performance/tracer.js';
import type {
  SubmitArgs,
  SubmitOptions,
  TaskDefinitionOptions,
  TaskEvents,
  TaskHandler,
  TaskInfo,
  TaskName,
  TaskStats,
  TaskSubmission,
} from './api-types.js';
import { type SelectedBackend, selectTaskBackend } from './backends/select.js';
import { type DeadLetters, deadLetters } from './dead-letters.js';
import { taskMetricFamilies } from './metrics.js';
import { poolHooks, TaskDurations } from './pool-hooks.js';
import { handlerRegistry, type TaskDefinition } from './registry.js';
import { SandboxPools } from './sandbox/pools.js';
import { type SandboxedTaskOptions, splitSandbox } from './sandbox/spec.js';
import { Scheduler } from './scheduler.js';
import { checkLeaseMs, type TaskSettings } from './settings.js';
import { TaskAnalytics } from './task-analytics.js';
import { TaskGroups } from './task-groups.js';
import { toInfo } from './task-info.js';
import { TaskPools } from './task-pools.js';
import { TaskQueues } from './task-queues.js';
import { taskStats } from './task-stats.js';
import { type Submission, submissionEntries, submitTasks } from './task-submit.js';
import { type TaskLookupOptions, TaskWaiters, type WaitForOptions } from './task-waiters.js';
import type { TaskBackend } from './types.js';
import { checkDefinitionOptions, checkQueue, checkTaskId, checkTaskName } from './validate.js';

export type { DeadLetters, TaskLookupOptions, WaitForOptions };
/** @internal A backend record as users see it (it lives in task-info.ts). */
export { toInfo };

/** Options of `enterprise.start()` that concern tasks. */
export interface TaskStartOptions {
  /** Run worker pools in this process. `false` gives a process that only submits. @defaultValue true */
  workers?: boolean;
  /** Run the scheduler's timers in this process. @defaultValue true */
  scheduler?: boolean;
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
  /** Groups and rate limits of the queues (every process follows them). */
  readonly groups: TaskGroups;
  readonly #settings: TaskSettings;
  readonly #log: Logger;
  readonly #prefix: string;
  readonly #local = new Map<string, TaskDefinition>();
  readonly #analytics: TaskAnalytics;
  readonly #queues: TaskQueues;
  readonly #waiters: TaskWaiters;
  readonly #pools: TaskPools;
  readonly #sandboxes: SandboxPools;
  /** The spans of submissions and executions (the performance monitor's tracer). */
  readonly #tracer: Tracer;
  #selected: Promise<SelectedBackend> | undefined;
  #backendNow: TaskBackend | undefined;
  #unsubscribe: (() => void) | undefined;
  #state: 'idle' | 'started' | 'stopping' | 'stopped' = 'idle';
  #workers = false;
  #registryListener: ((definition: TaskDefinition) => void) | undefined;
  #starting: Promise<void> | undefined;

  /** @internal Built by `Enterprise`; use `enterprise.tasks`. */
  constructor(deps: ManagerDeps) {
    super();
    this.#settings = deps.settings;
    this.#log = deps.logger;
    this.#prefix = deps.prefix;
    this.#tracer = deps.performance.tracer;
    this.#analytics = new TaskAnalytics(Date.now());
    const backend = () => this.backend();
    this.scheduler = new Scheduler({
      backend,
      submit: async (name, payload, options) => {
        const [outcome] = await submitTasks(
          this,
          this.#settings,
          this.#local,
          [{ name, payload, options }],
          this.#tracer,
        );
        return outcome!;
      },
      log: deps.logger,
      syncMs: deps.settings.scheduleSyncMs,
    });
    this.#queues = new TaskQueues(this.#settings, this.#local, backend);
    this.groups = new TaskGroups(backend, () => this.#settings.queueName, {
      paused: (queue, group) => this.#pools.groupPaused(queue, group),
      resumed: (queue, group) => this.#pools.groupResumed(queue, group),
      limitsChanged: (queue) => this.#pools.limitsChanged(queue),
    });
    this.deadLetters = deadLetters(backend, this.#queues);
    this.#waiters = new TaskWaiters(
      (id, queue) => this.#queues.find(id, queue),
      () => this.#subscribe(),
    );
    this.#sandboxes = new SandboxPools(deps.logger);
    const hooks = poolHooks({
      events: this,
      local: this.#local,
      analytics: this.#analytics,
      durations: new TaskDurations(deps.performance, deps.logger),
      tracer: this.#tracer,
      backend: () => this.#backendNow,
      sandboxes: this.#sandboxes,
    });
    this.#pools = new TaskPools(this.#settings, hooks, deps.logger);
  }

  protected override onListenerError(error: unknown, event: keyof TaskEvents): void {
    this.#log.error({ err: error, event }, 'a task event listener threw');
  }

  /** The name of the default queue (TASK_QUEUE_NAME). */
  get defaultQueue(): string {
    return this.#settings.queueName;
  }

  /** The queues this process serves: the default, the configured ones and those of its handlers. */
  servedQueues(): string[] {
    return this.#queues.served();
  }

  /**
   * The backend's name and server version, once the backend exists (never creating it):
   * `undefined` before, `version: null` when its server did not answer or it has none to tell.
   * Bound it with your own timeout.
   *
   * @example
   * ```ts
   * await enterprise.tasks.backendVersion(); // { name: 'redis', version: '7.2.4' }
   * ```
   */
  async backendVersion(): Promise<{ name: string; version: string | null } | undefined> {
    const backend = this.#backendNow;
    if (backend === undefined) return undefined;
    try {
      return { name: backend.name, version: (await backend.serverVersion?.()) ?? null };
    } catch {
      return { name: backend.name, version: null };
    }
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
   * enterprise.tasks.register('resize', { sandbox: './dist/resize.js', timeout: '30s' });
   * ```
   */
  register(
    name: string,
    handler: TaskHandler | SandboxedTaskOptions,
    options?: TaskDefinitionOptions,
  ): void {
    checkTaskName(name);
    if (handler !== null && typeof handler === 'object' && 'sandbox' in handler) {
      const split = splitSandbox(handler, 'handler');
      this.#local.set(name, {
        name,
        options: { ...checkDefinitionOptions(split.options, 'handler') },
        origin: `sandbox ${split.sandbox!.file}`,
        identity: `instance:${name}`,
        sandbox: split.sandbox!,
        resolve: () => ({ missing: `task "${name}" runs in a sandbox` }),
      });
      this.#ensurePool(split.options?.queue);
      return;
    }
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
    const [outcome] = await submitTasks(
      this,
      this.#settings,
      this.#local,
      [{ name, payload, options }],
      this.#tracer,
    );
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
    return this.#submitIds(submissionEntries(submissions));
  }

  async #submitIds(entries: readonly Submission[]): Promise<string[]> {
    return (await submitTasks(this, this.#settings, this.#local, entries, this.#tracer)).map(
      (outcome) => outcome.id,
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
    const record = await this.#queues.find(id, options.queue);
    return record === undefined ? undefined : toInfo(record);
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
    return this.#waiters.wait(id, options);
  }

  async #subscribe(): Promise<void> {
    if (this.#unsubscribe !== undefined) return;
    const backend = await this.backend();
    if (this.#unsubscribe !== undefined) return;
    this.#unsubscribe = backend.subscribe((event) => {
      if (event.type === 'paused' || event.type === 'resumed') {
        this.#pools.pauses.heard(event);
        return;
      }
      if (event.type === 'group-paused' || event.type === 'group-resumed') {
        if (event.group === undefined) return;
        if (event.type === 'group-paused') void this.#pools.groupPaused(event.queue, event.group);
        else this.#pools.groupResumed(event.queue, event.group);
        return;
      }
      if (event.type === 'limits') {
        void this.#pools.limitsChanged(event.queue);
        return;
      }
      this.#waiters.notify(event.id);
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
    for (const queue of await this.#queues.lookIn(options.queue)) {
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
    await this.#pools.pauses.pause(name, () => backend.pause(name));
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
    await this.#pools.pauses.resume(name, () => backend.resume(name));
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
    return taskStats(backend, this.#queues, this.#pools.counts, this.#analytics, this.#settings);
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
      for (const queue of this.#queues.served()) this.#ensurePool(queue);
      this.#registryListener = (definition) => this.#ensurePool(definition.options.queue);
      handlerRegistry().listeners.add(this.#registryListener);
      // Pools follow pauses made by other processes through the backend's events.
      void this.#subscribe().catch((error: unknown) => {
        this.#log.warn({ err: error }, 'subscribing to task events failed');
      });
      // One loop per process gives back tasks whose worker died (lease expired).
      const recoverMs = Math.max(100, Math.floor(this.#settings.leaseMs / 2));
      this.#pools.every(recoverMs, () => this.#pools.recover(this.#backendNow));
      void this.#pools.recover(this.#backendNow);
    }
    const refresh = () => this.#pools.refreshCounts(this.#backendNow, this.#queues);
    this.#pools.every(METRICS_REFRESH_MS, refresh);
    void refresh();
    if (options.scheduler !== false) this.scheduler.start();
    this.#log.debug({ backend: backend.name, workers: this.#workers }, 'tasks started');
  }

  #ensurePool(queue: string | undefined): void {
    if (this.#state !== 'started' || !this.#workers || this.#backendNow === undefined) return;
    this.#pools.ensure(this.#backendNow, queue);
  }

  /** @internal Prometheus families: queue depth, oldest waiting age, workers, attempts. */
  metricFamilies(): ReturnType<typeof taskMetricFamilies> {
    return taskMetricFamilies(this.#prefix, {
      counts: this.#pools.counts,
      pools: this.#pools.figures(),
      byTask: [...this.#analytics.byTask.values()],
      groups: this.#analytics.groups.latest,
      now: Date.now(),
    });
  }

  /**
   * @internal Stops the scheduler, stops claiming, waits for running tasks up to the shutdown
   * timeout (or `until`, epoch ms, when sooner: a graceful shutdown's deadline), gives the rest
   * back, and closes the backend if this instance opened it.
   */
  async stop(until?: number): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    this.#state = 'stopping';
    this.scheduler.stop();
    this.#pools.stopTimers();
    if (this.#registryListener !== undefined)
      handlerRegistry().listeners.delete(this.#registryListener);
    const deadline = Math.min(Date.now() + this.#settings.shutdownTimeoutMs, until ?? Infinity);
    await this.#pools.stop(deadline);
    await this.#sandboxes.close();
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
}

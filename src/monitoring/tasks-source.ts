import { MonitoringRequestError } from './errors.js';
import type { MonitoredInstance } from './monitored-instance.js';
import {
  type DeadLetterSnapshot,
  disabledTasksSnapshot,
  type TaskFailureSnapshot,
  type TaskGroupsSnapshot,
  type TaskQueueSnapshot,
  type TasksSnapshot,
  type TaskWorkerSnapshot,
} from './snapshot.js';

/**
 * The part of the tasks module's API the router uses. Read structurally, so the monitoring entry
 * does not import the tasks module (and the router works on an instance without it).
 */
interface TasksApi {
  stats(): Promise<unknown>;
  deadLetters?: {
    list(options?: Record<string, unknown>): Promise<unknown>;
    retry(id: string, options?: Record<string, unknown>): Promise<unknown>;
    purge(options?: Record<string, unknown>): Promise<unknown>;
  };
  pause?(queue?: string): Promise<unknown>;
  resume?(queue?: string): Promise<unknown>;
  scheduler?: SchedulerApi;
}

/** The scheduler's admin calls (see src/tasks/scheduler.ts), read structurally too. */
interface SchedulerApi {
  sync(): Promise<void>;
  list(options?: { includeRemoved?: boolean }): unknown[];
  add(definition: Record<string, unknown>): Promise<unknown>;
  pause(name: string): Promise<boolean>;
  resume(name: string): Promise<boolean>;
  remove(name: string): Promise<boolean>;
  runNow(name: string): Promise<string>;
}

/** What `/tasks/monitoring` and the snapshot read: the figures, normalized. */
export interface TasksOverview {
  /** The backend's name (`memory`, `redis`), `null` when the module does not say. */
  backend: string | null;
  queues: TaskQueueSnapshot[];
  workers: TaskWorkerSnapshot[];
  /** Attempts finished per second by this process over the last minute. */
  throughput: TasksSnapshot['throughput'];
  /** Failure analysis of this process's attempts. */
  failures: TaskFailureSnapshot[];
  /** The same grouping over the most recent dead tasks of every queue (every process). */
  deadLetterFailures: TaskFailureSnapshot[];
}

const DEAD_LETTERS_IN_SNAPSHOT = 20;

/**
 * @internal The router's view of `enterprise.tasks`: reads its statistics and dead letters and
 * runs its actions, translating the module's answers into the snapshot's shapes.
 */
export class TasksSource {
  readonly #enterprise: MonitoredInstance;
  /** The statistics read in flight: concurrent callers (health, stream, endpoint) share it. */
  #reading: Promise<TasksOverview> | undefined;

  constructor(enterprise: MonitoredInstance) {
    this.#enterprise = enterprise;
  }

  /**
   * The tasks module of the instance: the one built so far (`build: false`, what every reading
   * uses), or built now for an action a user asked for. `undefined` when there is none.
   */
  #api(build: boolean): TasksApi | undefined {
    const holder = this.#enterprise as unknown as {
      tasks?: unknown;
      peek?: (name: 'tasks') => unknown;
    };
    let tasks: unknown;
    try {
      if (!build) {
        tasks = typeof holder.peek === 'function' ? holder.peek('tasks') : undefined;
      } else if ('tasks' in holder) {
        tasks = holder.tasks;
      }
    } catch {
      return undefined;
    }
    if (tasks === null || typeof tasks !== 'object') return undefined;
    if (typeof (tasks as TasksApi).stats !== 'function') return undefined;
    return tasks as TasksApi;
  }

  /** Whether the instance has built a tasks module the router can read. Never builds it. */
  get enabled(): boolean {
    return this.#api(false) !== undefined;
  }

  #require(build: boolean): TasksApi {
    const api = this.#api(build);
    if (api === undefined) {
      throw new MonitoringRequestError(
        501,
        'E_MODULE_NOT_ENABLED',
        'the tasks module is not enabled on this instance',
      );
    }
    return api;
  }

  /**
   * Queues, workers and failure analysis. Rejects when the backend cannot be reached. A call while
   * a read is in flight shares it: a slow backend is never asked twice at once from here.
   */
  overview(): Promise<TasksOverview> {
    this.#reading ??= this.#readOverview().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async #readOverview(): Promise<TasksOverview> {
    const stats = asRecord(await this.#require(false).stats());
    const throughput = asRecord(stats.throughput);
    return {
      backend: typeof stats.backend === 'string' ? stats.backend : null,
      queues: normalizeQueues(stats.queues),
      workers: list(stats.workers).map(normalizeWorker),
      throughput:
        stats.throughput === undefined
          ? null
          : {
              completedPerSecond: num(throughput.completedPerSecond),
              failedPerSecond: num(throughput.failedPerSecond),
            },
      failures: failureList(stats.failures ?? stats.failureAnalysis),
      deadLetterFailures: failureList(stats.deadLetterFailures),
    };
  }

  /** The most recent dead tasks (across queues unless `queue` is given). */
  async deadLetters(limit: number, queue?: string): Promise<DeadLetterSnapshot[]> {
    const api = this.#require(false);
    if (api.deadLetters === undefined) return [];
    const options: Record<string, unknown> = { limit };
    if (queue !== undefined) options.queue = queue;
    const answer = await api.deadLetters.list(options);
    const items = Array.isArray(answer) ? answer : list(asRecord(answer).items);
    return items.slice(0, limit).map(normalizeDead);
  }

  /**
   * The snapshot's task part: empty figures with `enabled: false` while the module is not built.
   * Rejects when the backend fails.
   */
  async snapshot(): Promise<TasksSnapshot> {
    if (!this.enabled) return disabledTasksSnapshot();
    const [overview, deadLetters] = await Promise.all([
      this.overview(),
      this.deadLetters(DEAD_LETTERS_IN_SNAPSHOT),
    ]);
    return {
      enabled: true,
      ...overview,
      deadLetters,
      readAt: new Date().toISOString(),
      stale: false,
    };
  }

  /** Moves a dead task back to its queue. 404 when no dead task has that id. */
  async retryDead(id: string, queue?: string): Promise<void> {
    const dlq = this.#dlq();
    const done = await dlq.retry(id, queue === undefined ? undefined : { queue });
    if (done === false) {
      throw new MonitoringRequestError(404, 'E_NOT_FOUND', `no dead task has the id "${id}"`);
    }
  }

  /** Removes the dead tasks (of `queue`, or of every queue); resolves how many, when known. */
  async purgeDead(queue?: string): Promise<number | null> {
    const removed = await this.#dlq().purge(queue === undefined ? undefined : { queue });
    return typeof removed === 'number' ? removed : null;
  }

  async pause(queue: string): Promise<void> {
    const api = this.#require(true);
    if (typeof api.pause !== 'function') throw notSupported('pause');
    await api.pause(queue);
  }

  async resume(queue: string): Promise<void> {
    const api = this.#require(true);
    if (typeof api.resume !== 'function') throw notSupported('resume');
    await api.resume(queue);
  }

  /**
   * The scheduler of the tasks module (built now if need be: an operator asked), for the
   * schedule endpoints. 501 when the module has none.
   */
  scheduler(): SchedulerApi {
    const scheduler = this.#require(true).scheduler;
    if (scheduler === undefined || typeof scheduler.sync !== 'function') {
      throw notSupported('scheduler');
    }
    return scheduler;
  }

  #dlq(): NonNullable<TasksApi['deadLetters']> {
    const dlq = this.#require(true).deadLetters;
    if (dlq === undefined) throw notSupported('deadLetters');
    return dlq;
  }
}

function notSupported(what: string): MonitoringRequestError {
  return new MonitoringRequestError(
    501,
    'E_NOT_IMPLEMENTED',
    `the tasks module of this instance has no ${what}()`,
  );
}

function asRecord(value: unknown): Record<string, any> {
  return value !== null && typeof value === 'object' ? (value as Record<string, any>) : {};
}

function list(value: unknown): Record<string, any>[] {
  if (Array.isArray(value)) return value.map(asRecord);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).map(([name, entry]) => ({ name, ...asRecord(entry) }));
  }
  return [];
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function maybeNum(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function iso(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value).toISOString();
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' && value !== '') return value;
  return null;
}

function failureList(value: unknown): TaskFailureSnapshot[] {
  return list(value)
    .map(normalizeFailure)
    .sort((a, b) => b.count - a.count)
    .slice(0, 20);
}

function normalizeQueues(value: unknown): TaskQueueSnapshot[] {
  const now = Date.now();
  return list(value).map((entry) => {
    const counts = asRecord(entry.counts ?? entry);
    const oldest = entry.oldestWaitingAt ?? counts.oldestWaitingAt;
    const oldestSeconds =
      maybeNum(entry.oldestWaitingSeconds) ??
      maybeNum(entry.oldestWaitingAgeSeconds) ??
      (maybeNum(entry.oldestWaitingMs ?? entry.oldestWaitingAgeMs) === null
        ? null
        : num(entry.oldestWaitingMs ?? entry.oldestWaitingAgeMs) / 1000);
    const waiting = num(counts.waiting);
    return {
      name: String(entry.name ?? entry.queue ?? ''),
      waiting,
      delayed: num(counts.delayed),
      blocked: num(counts.blocked),
      active: num(counts.active),
      completed: num(counts.completed),
      dead: num(counts.dead),
      paused: counts.paused === true || entry.paused === true,
      // The tasks module reports 0 when nothing waits: that is "no age", not "zero seconds old".
      oldestWaitingSeconds:
        waiting === 0
          ? null
          : (oldestSeconds ??
            (typeof oldest === 'number' && Number.isFinite(oldest)
              ? Math.max(0, (now - oldest) / 1000)
              : null)),
      throughput: maybeNum(
        entry.throughput ?? entry.throughputPerSecond ?? entry.completedPerSecond,
      ),
      ...normalizeGroups(entry.groups),
    };
  });
}

/** A queue's groups as the tasks module reports them (`stats().queues[].groups`). */
function normalizeGroups(value: unknown): { groups?: TaskGroupsSnapshot } {
  if (value === null || typeof value !== 'object') return {};
  const g = value as Record<string, any>;
  const limits = asRecord(g.limits);
  const limit = (v: unknown) => {
    const l = asRecord(v);
    return maybeNum(l.limit) === null ? null : { limit: num(l.limit), perMs: num(l.perMs) };
  };
  const other = asRecord(g.other);
  return {
    groups: {
      total: num(g.total),
      waiting: num(g.waiting),
      active: num(g.active),
      rateLimit: limit(limits.rateLimit),
      groupRateLimit: limit(limits.groupRateLimit),
      groupMaxConcurrency: num(limits.groupMaxConcurrency),
      top: list(g.top).map((t) => ({
        group: String(t.group ?? ''),
        waiting: num(t.waiting),
        active: num(t.active),
        paused: t.paused === true,
        limitedUntil: iso(t.limitedUntil),
        weight: maybeNum(t.weight) ?? 1,
        maxConcurrency: num(t.maxConcurrency),
        throughput: num(t.throughput),
      })),
      other: { groups: num(other.groups), waiting: num(other.waiting), active: num(other.active) },
    },
  };
}

function normalizeWorker(entry: Record<string, any>): TaskWorkerSnapshot {
  const worker: TaskWorkerSnapshot = {
    id: String(entry.id ?? ''),
    queue: String(entry.queue ?? ''),
    host: String(entry.host ?? ''),
    pid: num(entry.pid),
    concurrency: num(entry.concurrency),
    active: num(entry.active),
    processed: num(entry.processed),
    failed: num(entry.failed),
    healthy: entry.healthy !== false && entry.status !== 'unhealthy',
    lastHeartbeatAt: iso(entry.lastHeartbeatAt) ?? new Date(0).toISOString(),
  };
  if (typeof entry.reason === 'string') worker.reason = entry.reason;
  return worker;
}

function normalizeFailure(entry: Record<string, any>): TaskFailureSnapshot {
  const error = entry.error;
  const described =
    typeof error === 'string'
      ? error
      : error !== null && typeof error === 'object'
        ? [error.code ?? error.name, error.message].filter(Boolean).join(': ')
        : [entry.errorName ?? entry.errorType ?? entry.code, entry.message ?? entry.errorMessage]
            .filter(Boolean)
            .join(': ');
  return {
    name: String(entry.name ?? entry.task ?? ''),
    error: described,
    count: num(entry.count),
    lastAt: iso(entry.lastAt ?? entry.lastFailedAt ?? entry.lastSeenAt),
  };
}

function normalizeDead(value: unknown): DeadLetterSnapshot {
  const entry = asRecord(value);
  const error = entry.error;
  return {
    id: String(entry.id ?? ''),
    name: String(entry.name ?? ''),
    queue: String(entry.queue ?? ''),
    error:
      typeof error === 'string' ? error : String(asRecord(error).message ?? entry.message ?? ''),
    attempts: num(entry.attempts),
    finishedAt: iso(entry.finishedAt),
  };
}

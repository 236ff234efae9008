import type { TraceContext } from '../core/trace-context.js';
import type { TaskGroupBackend } from './group-types.js';

export type {
  GroupInfo,
  GroupList,
  GroupSettings,
  QueueLimits,
  RateLimitSpec,
  TaskGroupBackend,
} from './group-types.js';

/**
 * The contract between the task engine (submit, workers, retries, scheduler) and the store that
 * holds tasks: memory for one process, Redis for many. Times are epoch milliseconds; durations that
 * end in `Ms` are milliseconds.
 *
 * The engine decides *what* happens (when a retry runs, whether a failure is final, what a payload
 * serializes to); a backend makes each decision durable and atomic, and hands tasks out to workers
 * at most one at a time under a lease.
 */

/** Where a task is in its life. */
export type TaskState =
  /** Ready to run, in priority then submission order. */
  | 'waiting'
  /** Waiting for its `runAt` (a delay, or the backoff before a retry). */
  | 'delayed'
  /** Waiting for the tasks it depends on to complete. */
  | 'blocked'
  /** Held by a worker under a lease. */
  | 'active'
  /** Its handler returned. */
  | 'completed'
  /** In the dead letter queue: out of retries, failed dependency, or failed without retry. */
  | 'dead'
  /** Cancelled before it ran. */
  | 'cancelled';

/** An error as stored with a task: plain data, so it survives serialization. */
export interface TaskErrorInfo {
  /** The error's `name` (`Error`, `TypeError`, `TaskTimeoutError`, ... or `NonError` for a thrown non-Error). */
  name: string;
  message: string;
  stack?: string;
  /** The error's `code` when it has a string one (`E_TASK_TIMEOUT`, `ECONNRESET`, ...). */
  code?: string;
}

/** How a failed attempt is retried. Delays in milliseconds. */
export interface BackoffSpec {
  /** `exponential`: `delayMs * factor^(attempt-1)`, capped at `maxDelayMs`; `fixed`: always `delayMs`. */
  type: 'exponential' | 'fixed';
  delayMs: number;
  factor: number;
  maxDelayMs: number;
  /** Fraction of the delay that is randomised (0 = none, 1 = "full jitter"). */
  jitter: number;
}

/** A task as the engine asks a backend to store it. */
export interface NewTask {
  /** Unique within its queue; submitting an id that exists creates nothing. */
  id: string;
  /** Handler name. */
  name: string;
  queue: string;
  /** The payload, serialized by the engine (JSON text). */
  payload: string;
  /** 0 (most urgent) to 100 (least); lower runs first, then first submitted. */
  priority: number;
  /** Not before this time; at or before `createdAt` means ready now. */
  runAt: number;
  /** Retries after the first attempt before the task is dead. */
  maxRetries: number;
  backoff: BackoffSpec;
  /** Per-attempt timeout; 0 means none. */
  timeoutMs: number;
  /** Ids of tasks in the same queue that must complete first. */
  dependsOn: readonly string[];
  /** When a dependency ends dead or cancelled: `true` (default) kills this task too, `false` runs it anyway. */
  failOnDependencyFailure: boolean;
  createdAt: number;
  /**
   * Keeps the id taken for this many milliseconds after the task is created, even once retention
   * removed the task: an add of the same id meanwhile creates nothing. The scheduler submits each
   * slot this way, so a slot runs once however many processes submit it, whenever they do.
   */
  uniqueForMs?: number;
  /**
   * The W3C trace context the task was submitted in (its producer span, with OpenTelemetry): the
   * execution continues this trace, as a consumer span linked to it. Absent for tasks stored by a
   * version without tracing.
   */
  trace?: TraceContext;
  /**
   * The group the task belongs to (a tenant, an account): within its queue, ready tasks of
   * different groups are claimed in turns, each group's by priority then submission order; absent
   * for an ungrouped task. See {@link TaskGroupBackend}.
   */
  group?: string;
}

/** A task as a backend returns it. */
export interface TaskRecord extends NewTask {
  state: TaskState;
  /**
   * Attempts started so far (1 while the first attempt runs). An attempt counts once the worker
   * recorded that its handler started: a task handed to a worker that stopped before starting it
   * costs no attempt. In a {@link ClaimedTask} it is the number the claimed attempt has.
   */
  attempts: number;
  /** When the current or last attempt started. */
  startedAt?: number;
  /** When it completed, died or was cancelled. */
  finishedAt?: number;
  /** The handler's return value, serialized by the engine (JSON text), once completed. */
  result?: string;
  /** The last attempt's error, once an attempt failed. */
  error?: TaskErrorInfo;
  /** The last progress the handler reported (JSON text). */
  progress?: string;
  /** The worker holding it while `active`. */
  workerId?: string;
  /** Dependencies still to complete while `blocked`. */
  pendingDependencies?: readonly string[];
}

/** What {@link TaskBackend.add} did with one task. */
export interface AddOutcome {
  id: string;
  /** `false` when a task with this id already existed (nothing was changed). */
  created: boolean;
  /** The state the task is in after the call. */
  state: TaskState;
}

/**
 * A task handed to a worker. `token` fences the lease: every later call about this attempt passes it,
 * and the backend refuses it once the lease was lost (expired and handed to another worker). The
 * record is the caller's own (a fresh object per claim, shared with nothing the backend keeps): the
 * engine may change it, and drops its payload text once parsed.
 */
export interface ClaimedTask {
  task: TaskRecord;
  token: string;
  /** The lease ends then unless renewed. */
  leaseUntil: number;
}

/** Identifies one attempt held by a worker. */
export interface Lease {
  id: string;
  token: string;
}

/** How an attempt ended, as the engine decided. */
export type AttemptOutcome =
  | (Lease & { kind: 'completed'; result: string | undefined; finishedAt: number })
  | (Lease & { kind: 'retry'; error: TaskErrorInfo; runAt: number })
  | (Lease & { kind: 'dead'; error: TaskErrorInfo; finishedAt: number })
  /**
   * The remote side rate-limited the handler: the task is ready again at its place, its attempt not
   * counted, and its group (ungrouped: its queue) starts nothing for `retryAfterMs`.
   */
  | (Lease & { kind: 'limited'; retryAfterMs: number });

/** What {@link TaskBackend.finish} did with one outcome. */
export interface FinishResult {
  id: string;
  /** `false` when the lease was no longer held (the outcome was ignored). */
  accepted: boolean;
  /** Dependents that became ready (`waiting`) or died because of this outcome. */
  released?: readonly string[];
  killed?: readonly string[];
}

/** Counts of one queue. */
export interface QueueCounts {
  waiting: number;
  delayed: number;
  blocked: number;
  active: number;
  completed: number;
  dead: number;
  paused: boolean;
  /** `createdAt` of the oldest task that is ready and waiting, if any (for "oldest waiting age"). */
  oldestWaitingAt?: number;
}

/** A worker pool's heartbeat, as stored and listed across processes. */
export interface WorkerInfo {
  /** Unique per process and pool. */
  id: string;
  queue: string;
  host: string;
  pid: number;
  /** Current concurrency (auto-scaling moves it between `minConcurrency` and `maxConcurrency`). */
  concurrency: number;
  /** Tasks it holds now. */
  active: number;
  processed: number;
  failed: number;
  startedAt: number;
  lastHeartbeatAt: number;
  /** When it last finished a task, if ever. */
  lastCompletedAt?: number;
}

/**
 * A change that other processes hear about (to settle `waitFor`, drive events and dashboards).
 * `paused` and `resumed` concern a whole queue: their `id` and `name` are empty, and every
 * process's task manager stops or restarts its worker pools of that queue when it hears them.
 * `group-paused` and `group-resumed` concern one group of the queue (`group`; `id` and `name`
 * empty): every process stops starting, and gives back, the tasks of it that it claimed ahead.
 * `limits` says the queue's limits were stored again (`configureQueue`; `id` and `name` empty):
 * every process's pools of the queue read them at once rather than at their next heartbeat.
 */
export interface TaskBackendEvent {
  type:
    | 'completed'
    | 'dead'
    | 'cancelled'
    | 'retry'
    | 'progress'
    | 'paused'
    | 'resumed'
    | 'group-paused'
    | 'group-resumed'
    | 'limits';
  queue: string;
  id: string;
  name: string;
  /** The group of a `group-paused` or `group-resumed` event. */
  group?: string;
}

/**
 * A schedule as the backend keeps it for every process: the definition of a schedule registered
 * in code (so an operator sees it everywhere), or one added at run time, and the operator's
 * decision about it. The scheduler owns the meaning; a backend stores and returns records whole.
 */
export interface StoredSchedule {
  name: string;
  taskName: string;
  kind: 'cron' | 'every';
  cron?: string;
  everyMs?: number;
  timezone?: string;
  /** The task payload, JSON-encoded; absent for none. */
  payload?: string;
  /** The task options (queue, priority, retries...), JSON-encoded. */
  options: string;
  /** `code`: registered by `schedulePeriodic`/`scheduleEvery`; `admin`: added at run time. */
  origin: 'code' | 'admin';
  /** `removed` is kept for code schedules, so a removal outlives the code that registers them. */
  state: 'active' | 'paused' | 'removed';
  /** Epoch ms of the last change, for operators (processes compare whole records, not clocks). */
  updatedAt: number;
}

/** How long finished tasks are kept; whichever bound is hit first removes the oldest. */
export interface RetentionSpec {
  completed: { count: number; ageMs: number };
  dead: { count: number; ageMs: number };
}

/**
 * The store behind the task module. Every method settles (a remote store that cannot be reached
 * rejects; the engine applies timeouts and retries), and every state change is atomic: two workers
 * never hold the same attempt, and an outcome reported under a lost lease is ignored.
 *
 * Delivery is at least once: a task whose lease expires (its worker died or stalled) is handed out
 * again by {@link recoverExpired}. Its `attempts` count the lost attempt only if the worker had
 * recorded its start (see {@link finish}); a task claimed ahead of a free slot and never started
 * costs nothing, up to `UNSTARTED_DELIVERIES.limit` such losses, after which it is dead.
 *
 * Calls may be repeated after a lost reply (a dropped connection): add, claim, finish, cancel and
 * retryDead answer a repeat with the first call's answer; the other calls are idempotent.
 *
 * Every implementation passes the conformance suite `describeTaskBackend` of
 * `@revcopy/enterprise/testing`.
 *
 * @example
 * ```ts
 * const enterprise = createEnterprise({ tasks: { backend: redisTaskBackend({ url: process.env.REDIS_URL }) } });
 * ```
 */
export interface TaskBackend extends Partial<TaskGroupBackend> {
  /** Short name for logs and stats: `memory`, `redis`. */
  readonly name: string;

  /**
   * The longest one call may take before it rejects, for a remote store (Redis: its
   * `commandTimeoutMs`). The task manager refuses a `leaseMs` shorter than three times this, as
   * a lease is renewed every third of its length and a renewal must land before it ends.
   */
  readonly commandTimeoutMs?: number;

  /**
   * The version of the server the backend stores in (`'7.2.4'` for Redis), for `/info`. Optional:
   * a backend without a server leaves it out. Rejects when the store cannot be reached.
   */
  serverVersion?(): Promise<string | undefined>;

  /**
   * Stores new tasks in one atomic step per queue. A task whose id exists is left as it is
   * (`created: false`). Dependencies must name tasks of the same queue that exist or are in the same
   * call; a task whose dependencies are all completed is ready, one with a dead or cancelled
   * dependency is dead at once when `failOnDependencyFailure`. Rejects with `TaskDependencyError`
   * for an unknown dependency, before storing anything of the call.
   */
  add(tasks: readonly NewTask[]): Promise<AddOutcome[]>;

  /**
   * Hands up to `max` ready tasks of `queue` to `workerId`, most urgent first, moving delayed tasks
   * whose time has come to ready first, and sets each one's lease. The attempt is not counted yet
   * (each record's `attempts` is the number it will have once started). Returns an empty array when
   * the queue is paused or nothing is ready.
   */
  claim(queue: string, workerId: string, max: number, leaseMs: number): Promise<ClaimedTask[]>;

  /**
   * Resolves when a task of `queue` may be ready (one was added or became due), after `timeoutMs`
   * at the latest, or at once when `signal` aborts. Spurious wake-ups are allowed.
   */
  waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void>;

  /** Extends the leases still held; resolves the ids whose lease was lost. */
  renewLeases(queue: string, leases: readonly Lease[], leaseMs: number): Promise<string[]>;

  /**
   * Records, in one atomic step per queue, the start of the attempts in `started` (held leases
   * whose handler began: each counts its attempt once; a lease no longer held is ignored), then
   * the outcomes of attempts: completed (releases dependents whose dependencies are now all
   * complete), retry (delayed until `runAt`), dead (dead letter queue; kills dependents with
   * `failOnDependencyFailure`, releases the others). An outcome whose start was not recorded counts
   * its attempt too. Applies retention. Resolves one result per outcome.
   */
  finish(
    queue: string,
    outcomes: readonly AttemptOutcome[],
    started?: readonly Lease[],
  ): Promise<FinishResult[]>;

  /**
   * Gives held tasks back (graceful shutdown, pause): ready again at once, at their old place; an
   * attempt whose start was recorded is not counted after all.
   */
  release(queue: string, leases: readonly Lease[]): Promise<void>;

  /**
   * Makes tasks whose lease expired ready again; resolves how many. A backend with a clock of its
   * own (Redis: the server's) decides by it and ignores `now`, so processes whose clocks disagree
   * never recover a live lease. A lost attempt whose start was recorded still counts; a task lost
   * `UNSTARTED_DELIVERIES.limit` times before any start was recorded goes to the dead letter queue.
   */
  recoverExpired(queue: string, now: number): Promise<number>;

  /** Stores the progress an attempt reported (JSON text); ignored under a lost lease. */
  setProgress(queue: string, lease: Lease, progress: string): Promise<boolean>;

  /** The task, or `undefined` when unknown (or removed by retention). */
  get(queue: string, id: string): Promise<TaskRecord | undefined>;

  /**
   * Cancels a task that has not started (waiting, delayed, blocked); resolves whether it did.
   * Dependents are treated as for a dead dependency.
   */
  cancel(queue: string, id: string): Promise<boolean>;

  counts(queue: string): Promise<QueueCounts>;

  /** Dead tasks, most recent first. */
  listDead(queue: string, offset: number, limit: number): Promise<TaskRecord[]>;
  /**
   * Moves a dead task back with `attempts` reset; resolves whether it was dead. It waits for its
   * dependencies again: completed ones (or ones no longer stored) count as done, it is `blocked`
   * on those still to run, and a dependency that is dead or cancelled rejects the retry with
   * `TaskDependencyError` when the task fails with its dependencies (retry the dependency first).
   */
  retryDead(queue: string, id: string): Promise<boolean>;
  /** Removes every dead task of `queue`; resolves how many. */
  purgeDead(queue: string): Promise<number>;
  /**
   * Re-creates dead tasks from their records (a backup restored, a move between environments):
   * each is stored `dead` with its id, name, payload, options, attempts, error and times, as
   * {@link listDead} returned it. An id stored already (in any state) is left alone
   * (`created: false`), so restoring twice changes nothing. Optional: a backend without it cannot
   * restore dead tasks.
   */
  restoreDead?(queue: string, records: readonly TaskRecord[]): Promise<AddOutcome[]>;

  /**
   * Stops `claim` from handing out tasks of `queue` (in every process) until {@link resume}, and
   * tells every subscriber with a `paused` event (sent with the change, in the same step).
   */
  pause(queue: string): Promise<void>;
  /** Lets `claim` hand out tasks of `queue` again, and tells every subscriber (`resumed`). */
  resume(queue: string): Promise<void>;

  /** Records a worker pool's heartbeat; it is listed until `ttlMs` after the last one. */
  heartbeat(worker: WorkerInfo, ttlMs: number): Promise<void>;
  /** Removes a worker pool's entry (graceful stop). */
  removeWorker(queue: string, workerId: string): Promise<void>;
  /** Worker pools of every process whose heartbeat has not expired. */
  workers(queue: string): Promise<WorkerInfo[]>;

  /**
   * Claims the run of schedule `name` due at `slot` (epoch ms) for this process; resolves `true`
   * for exactly one caller across every process however many ask, and remembers the claim for at
   * least `ttlMs`.
   */
  claimScheduleSlot(name: string, slot: number, ttlMs: number): Promise<boolean>;

  /** Every stored schedule record (see {@link StoredSchedule}), in no particular order. */
  schedules(): Promise<StoredSchedule[]>;
  /** Stores `record` under its name, replacing the one there. */
  saveSchedule(record: StoredSchedule): Promise<void>;
  /** Deletes the record of schedule `name`; resolves whether there was one. */
  deleteSchedule(name: string): Promise<boolean>;

  /** Queues known to this store (those tasks were ever added to). */
  queues(): Promise<string[]>;

  /** Subscribes to changes made by any process; returns the unsubscribe function. */
  subscribe(listener: (event: TaskBackendEvent) => void): () => void;

  /** Releases what the backend opened (never a client it was given). Idempotent. */
  close(): Promise<void>;
}

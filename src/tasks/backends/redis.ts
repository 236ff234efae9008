import { checkTimeout, quitClient, type RedisClient } from '../../redis/client.js';
import { checkPrefix } from '../../redis/keys.js';
import { runScript } from '../../redis/scripts.js';
import { redisServerVersion } from '../../redis/server-version.js';
import { type RetentionOptions, resolveRetention } from '../retention.js';
import type {
  AddOutcome,
  AttemptOutcome,
  ClaimedTask,
  FinishResult,
  GroupList,
  GroupSettings,
  Lease,
  NewTask,
  QueueCounts,
  QueueLimits,
  RetentionSpec,
  StoredSchedule,
  TaskBackend,
  TaskBackendEvent,
  TaskRecord,
  WorkerInfo,
} from '../types.js';
import { addTasks } from './redis/add.js';
import {
  cancelTask,
  claimScheduleSlot,
  getTask,
  listDead,
  listQueues,
  pauseQueue,
  purgeDead,
  queueCounts,
  resumeQueue,
  retryDead,
} from './redis/admin.js';
import {
  cleanupBackend,
  type TaskStoreCleanupOptions,
  type TaskStoreCleanupReport,
} from './redis/cleanup.js';
import { BackendConnection } from './redis/connection.js';
import type { BackendContext } from './redis/context.js';
import { BackendEvents } from './redis/events.js';
import { finishCall, finishResults } from './redis/finish.js';
import {
  configureGroup,
  configureQueue,
  listGroups,
  pausedGroups,
  pauseGroup,
  queueLimits,
} from './redis/groups.js';
import { BackendKeys } from './redis/keys.js';
import { recoverExpired, release, renewLeases, setProgress } from './redis/leases.js';
import { claimedTasks } from './redis/records.js';
import { restoreDead } from './redis/restore.js';
import { deleteSchedule, listSchedules, saveSchedule } from './redis/schedules.js';
import { CLAIM, CLAIM_FIELDS, FINISH } from './redis/scripts.js';
import { SharedLimits } from './redis/shared-limits.js';
import { WorkWaits } from './redis/waiting.js';
import { heartbeat, listWorkers, removeWorker } from './redis/workers.js';

export type { RedisClient } from '../../redis/client.js';
export type { TaskStoreCleanupOptions, TaskStoreCleanupReport } from './redis/cleanup.js';
export { TaskBackendError } from './redis/connection.js';

/**
 * Options of {@link redisTaskBackend}.
 *
 * @example
 * ```ts
 * const options: RedisTaskBackendOptions = {
 *   url: 'redis://127.0.0.1:6379',
 *   prefix: 'shop:tasks',
 *   retention: { completed: { count: 5_000 }, dead: { ageMs: 30 * 86_400_000 } },
 * };
 * ```
 */
export interface RedisTaskBackendOptions {
  /**
   * A Redis URL (`redis://user:pass@host:6379/0`, `rediss://` for TLS). The backend opens its
   * connections on it and closes them on {@link RedisTaskBackend.close}. Give either `url` or
   * `client`.
   */
  url?: string;
  /**
   * An ioredis client or Cluster the application owns. The backend sends its commands on it and
   * opens its blocking and subscriber connections with `duplicate()`; it closes those, never the
   * client itself.
   */
  client?: RedisClient;
  /**
   * First segment of every key. Two backends with different prefixes never see each other's
   * tasks. Must not contain `{` or `}`. @defaultValue 'enterprise:tasks'
   */
  prefix?: string;
  /** How many completed and dead tasks are kept, and for how long (the oldest go first). */
  retention?: RetentionOptions;
  /**
   * Longest wait for one command (and for the connection while it reconnects) before the call
   * rejects with a {@link TaskBackendError}. @defaultValue 5000
   */
  commandTimeoutMs?: number;
  /** Connection errors and failed background work (never thrown: the backend keeps reconnecting). */
  onError?: (error: Error) => void;
}

const DEFAULT_PREFIX = 'enterprise:tasks';
const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;
/**
 * Claims of at most this many tasks get their payloads from the claim script; larger ones read
 * them with one MGET after it, which costs Redis less but adds a round trip small claims feel most.
 */
const INLINE_PAYLOADS_MAX = 32;
/** Delayed tasks moved to ready per claim: bounds the work of one claim after a long pause. */
const PROMOTE_BATCH = 1_000;

/**
 * Creates the Redis {@link TaskBackend}: tasks shared by every process on one Redis (or Redis
 * Cluster), at-least-once delivery under leases with fencing tokens, every state change one
 * atomic Lua script, bounded retention of finished tasks.
 *
 * @example
 * ```ts
 * import { createEnterprise } from '@revcopy/enterprise';
 * import { redisTaskBackend } from '@revcopy/enterprise/tasks';
 *
 * const enterprise = createEnterprise({
 *   tasks: { backend: redisTaskBackend({ url: process.env.REDIS_URL, prefix: 'shop:tasks' }) },
 * });
 * await enterprise.start();
 * ```
 */
export function redisTaskBackend(options: RedisTaskBackendOptions): RedisTaskBackend {
  return new RedisTaskBackend(options);
}

/**
 * The Redis task backend; build it with {@link redisTaskBackend}. See docs/tasks-redis.md for the
 * key layout and the guarantees.
 *
 * Connections (each opened on first use): the command connection (the given `client`, or one on
 * `url`), one blocking connection per queue that `waitForWork` waits on (BZPOPMIN on the queue's
 * marker key), and one subscriber for {@link subscribe}. `close()` closes all of them except a
 * given client.
 *
 * @example
 * ```ts
 * const backend = new RedisTaskBackend({ client: redis, prefix: 'shop:tasks' });
 * const [claimed] = await backend.claim('default', 'worker-1', 1, 30_000);
 * if (claimed) {
 *   await backend.finish('default', [
 *     { kind: 'completed', id: claimed.task.id, token: claimed.token, result: '"ok"', finishedAt: Date.now() },
 *   ]);
 * }
 * ```
 */
export class RedisTaskBackend implements TaskBackend {
  readonly name = 'redis';
  /** The command connection: the client given, or the one the backend created. */
  readonly client: RedisClient;
  /** First segment of every key of this backend. */
  readonly prefix: string;
  /** The retention applied by `finish` and `cancel`. */
  readonly retention: RetentionSpec;
  /** The pub/sub channel of {@link TaskBackendEvent}s. */
  readonly channel: string;
  /** The longest wait for one command before the call rejects (the `commandTimeoutMs` option). */
  readonly commandTimeoutMs: number;
  /** The connection every command and script goes through. */
  readonly #conn: BackendConnection;
  readonly #keys: BackendKeys;
  /** What the commands kept in redis/*.ts use of this backend. */
  readonly #ctx: BackendContext;
  readonly #waits: WorkWaits;
  readonly #events: BackendEvents;
  readonly #shared: SharedLimits;
  /** Claims whose script has not answered yet (settled when it does, never rejected). */
  readonly #claimScripts = new Set<Promise<void>>();
  /** How long a call's answer is remembered for a re-send: longer than any retry can come. */
  readonly #memoMs: number;

  constructor(options: RedisTaskBackendOptions) {
    this.prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
    this.commandTimeoutMs = checkTimeout(
      options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      'commandTimeoutMs',
    );
    this.retention = resolveRetention(options.retention);
    this.#memoMs = Math.max(30_000, 4 * this.commandTimeoutMs);
    this.#conn = new BackendConnection(options, this.prefix, this.commandTimeoutMs);
    this.client = this.#conn.client;
    this.channel = `${this.prefix}:events`;
    this.#keys = new BackendKeys(this.prefix);
    this.#ctx = {
      conn: this.#conn,
      keys: this.#keys,
      prefix: this.prefix,
      channel: this.channel,
      retention: this.retention,
      memoMs: this.#memoMs,
      recorded: new Set(),
    };
    this.#waits = new WorkWaits(this.#conn, (queue) => this.#keys.queue(queue).marker);
    this.#events = new BackendEvents(this.#conn, this.channel);
    this.#shared = new SharedLimits(this.#ctx);
  }

  /**
   * Repairs what finish-time retention cannot (the `cleanup_completed_tasks` maintenance task
   * calls it): payloads and dependency sets left without their task, finished tasks missing from
   * their index, keys that lost their expiry, index entries whose task is gone, entries past the
   * retention bounds, and queues no longer used. SCAN in batches, each key judged inside a script
   * of its queue: safe while workers run.
   *
   * @example
   * ```ts
   * const report = await backend.cleanup({ knownQueues: ['default'], dryRun: true });
   * console.log(report.done.orphanPayloads, report.details.unusedQueues);
   * ```
   */
  cleanup(options?: TaskStoreCleanupOptions): Promise<TaskStoreCleanupReport> {
    return cleanupBackend(this.#ctx, options);
  }

  add(tasks: readonly NewTask[]): Promise<AddOutcome[]> {
    return addTasks(this.#ctx, tasks);
  }

  async claim(
    queue: string,
    workerId: string,
    max: number,
    leaseMs: number,
  ): Promise<ClaimedTask[]> {
    if (!(max >= 1)) return [];
    // Without a shared limit the claim's script goes out at once (no await before it): a finish
    // asked for meanwhile must queue behind it.
    const pending = this.#shared.room(queue, Math.floor(max));
    const room = pending instanceof Promise ? await pending : pending;
    const claimed = await this.#claim(queue, workerId, room.max, leaseMs, room.holdUntil);
    if (room.key !== undefined && claimed.length < room.max) {
      await this.#shared.giveBack(queue, room.key, room.max - claimed.length).catch(noop);
    }
    return claimed;
  }

  async #claim(
    queue: string,
    workerId: string,
    max: number,
    leaseMs: number,
    holdUntil: number,
  ): Promise<ClaimedTask[]> {
    const k = this.#keys.queue(queue);
    const now = Date.now();
    const leaseUntil = now + leaseMs;
    const inline = max <= INLINE_PAYLOADS_MAX;
    const memo = this.#keys.memo(k);
    const width = inline ? CLAIM_FIELDS + 1 : CLAIM_FIELDS;
    // The script returns what a worker needs of each hash, flat; unless inline, the payloads
    // follow in one MGET, as a native read costs Redis less than carrying them through Lua.
    const script = this.#conn.run('claim', queue, (client) =>
      runScript(
        client,
        CLAIM,
        [k.ready, k.delayed, k.active, k.paused, k.marker, k.seq, memo],
        [max, leaseMs, workerId, k.base, PROMOTE_BATCH, inline ? 1 : 0, this.#memoMs, holdUntil],
      ),
    );
    // A finish called meanwhile waits for this reply (see `finish`), so that the payload read
    // below reaches Redis before that finish does.
    const replied = inline ? undefined : script.then(noop, noop);
    if (replied !== undefined) this.#claimScripts.add(replied);
    let rows: (string | number | null)[];
    try {
      rows = (await script) as (string | number | null)[];
    } finally {
      if (replied !== undefined) this.#claimScripts.delete(replied);
    }
    // The trailer: the queue's shared limit as stored, then the server's time of the claim (the
    // attempts' `startedAt`).
    const claimedAt = Number(rows.pop() ?? now);
    const [sharedName, sharedLimit, sharedPer] = rows.splice(rows.length - 3, 3);
    this.#shared.learned(queue, sharedName, sharedLimit, sharedPer);
    const count = rows.length / width;
    if (count === 0) return [];
    let payloads: (string | null)[] | undefined;
    if (!inline) {
      const payloadKeys: string[] = new Array(count);
      for (let i = 0; i < count; i++) payloadKeys[i] = k.base + 'p:' + rows[i * width];
      // Should this read fail, the claimed tasks come back when their leases expire, as those of
      // a claim whose reply was lost do.
      payloads = await this.#conn.run('claim', queue, (client) => client.mget(payloadKeys));
    }
    return claimedTasks(rows, width, payloads, queue, workerId, claimedAt, leaseUntil);
  }

  waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    return this.#waits.wait(queue, timeoutMs, signal);
  }

  renewLeases(queue: string, leases: readonly Lease[], leaseMs: number): Promise<string[]> {
    return renewLeases(this.#ctx, queue, leases, leaseMs);
  }

  async finish(
    queue: string,
    outcomes: readonly AttemptOutcome[],
    started: readonly Lease[] = [],
  ): Promise<FinishResult[]> {
    if (outcomes.length === 0 && started.length === 0) return [];
    // Claims whose script is in flight go first: queued behind a large finish, their payload read
    // would keep the worker waiting for its next batch while it has nothing to run.
    if (this.#claimScripts.size > 0) await Promise.all(this.#claimScripts);
    const k = this.#keys.queue(queue);
    const { keys, args } = finishCall(
      k,
      {
        queue,
        channel: this.channel,
        retention: this.retention,
        memoKey: this.#keys.memo(k),
        memoMs: this.#memoMs,
      },
      outcomes,
      started,
    );
    const reply = (await this.#conn.run('finish', queue, (client) =>
      runScript(client, FINISH, keys, args),
    )) as (number | string)[];
    return finishResults(reply, outcomes);
  }

  release(queue: string, leases: readonly Lease[]): Promise<void> {
    return release(this.#ctx, queue, leases);
  }

  /** Leases end by the Redis server's clock: `_now` (the caller's) is not used. */
  recoverExpired(queue: string, _now?: number): Promise<number> {
    return recoverExpired(this.#ctx, queue);
  }

  setProgress(queue: string, lease: Lease, progress: string): Promise<boolean> {
    return setProgress(this.#ctx, queue, lease, progress);
  }

  get(queue: string, id: string): Promise<TaskRecord | undefined> {
    return getTask(this.#ctx, queue, id);
  }

  cancel(queue: string, id: string): Promise<boolean> {
    return cancelTask(this.#ctx, queue, id);
  }

  counts(queue: string): Promise<QueueCounts> {
    return queueCounts(this.#ctx, queue);
  }

  listDead(queue: string, offset: number, limit: number): Promise<TaskRecord[]> {
    return listDead(this.#ctx, queue, offset, limit);
  }

  retryDead(queue: string, id: string): Promise<boolean> {
    return retryDead(this.#ctx, queue, id);
  }

  purgeDead(queue: string): Promise<number> {
    return purgeDead(this.#ctx, queue);
  }

  restoreDead(queue: string, records: readonly TaskRecord[]): Promise<AddOutcome[]> {
    return restoreDead(this.#ctx, queue, records);
  }

  pause(queue: string): Promise<void> {
    return pauseQueue(this.#ctx, queue);
  }

  resume(queue: string): Promise<void> {
    return resumeQueue(this.#ctx, queue);
  }

  async configureQueue(queue: string, limits: QueueLimits): Promise<void> {
    await configureQueue(this.#ctx, queue, limits);
    this.#shared.configured(queue, limits);
  }

  configureGroup(queue: string, group: string, settings: GroupSettings): Promise<void> {
    return configureGroup(this.#ctx, queue, group, settings);
  }

  pauseGroup(queue: string, group: string): Promise<void> {
    return pauseGroup(this.#ctx, queue, group, true);
  }

  resumeGroup(queue: string, group: string): Promise<void> {
    return pauseGroup(this.#ctx, queue, group, false);
  }

  groups(queue: string, limit: number): Promise<GroupList> {
    return listGroups(this.#ctx, queue, limit);
  }

  queueLimits(queue: string): Promise<QueueLimits> {
    return queueLimits(this.#ctx, queue);
  }

  pausedGroups(queue: string): Promise<string[]> {
    return pausedGroups(this.#ctx, queue);
  }

  heartbeat(worker: WorkerInfo, ttlMs: number): Promise<void> {
    return heartbeat(this.#ctx, worker, ttlMs);
  }

  removeWorker(queue: string, workerId: string): Promise<void> {
    return removeWorker(this.#ctx, queue, workerId);
  }

  workers(queue: string): Promise<WorkerInfo[]> {
    return listWorkers(this.#ctx, queue);
  }

  claimScheduleSlot(name: string, slot: number, ttlMs: number): Promise<boolean> {
    return claimScheduleSlot(this.#ctx, name, slot, ttlMs);
  }

  schedules(): Promise<StoredSchedule[]> {
    return listSchedules(this.#ctx);
  }

  saveSchedule(record: StoredSchedule): Promise<void> {
    return saveSchedule(this.#ctx, record);
  }

  deleteSchedule(name: string): Promise<boolean> {
    return deleteSchedule(this.#ctx, name);
  }

  queues(): Promise<string[]> {
    return listQueues(this.#ctx);
  }

  serverVersion(): Promise<string | undefined> {
    return this.#conn.run('serverVersion', undefined, redisServerVersion);
  }

  subscribe(listener: (event: TaskBackendEvent) => void): () => void {
    return this.#events.subscribe(listener);
  }

  /** Closes the connections the backend opened (never a given client). Idempotent. */
  async close(): Promise<void> {
    this.#conn.closing ??= this.#close();
    await this.#conn.closing;
  }

  async #close(): Promise<void> {
    const closing = [...this.#events.close(), ...this.#waits.drop()];
    if (this.#conn.owned) closing.push(quitClient(this.client));
    await Promise.all(closing);
    await this.#waits.ended();
  }
}

function noop(): void {}

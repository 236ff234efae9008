import { randomBytes } from 'node:crypto';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { describeValue, EnterpriseError, InvalidArgumentError } from '../../core/errors.js';
import { rejectAfter } from '../../core/timeout.js';
import {
  checkTimeout,
  createClient,
  quitClient,
  type RedisClient,
  resolveClient,
  whenReady,
} from '../../redis/client.js';
import { checkPrefix, hashTag } from '../../redis/keys.js';
import { runScript } from '../../redis/scripts.js';
import { TaskDependencyError } from '../errors.js';
import { type RetentionOptions, resolveRetention } from '../retention.js';
import type {
  AddOutcome,
  AttemptOutcome,
  BackoffSpec,
  ClaimedTask,
  FinishResult,
  Lease,
  NewTask,
  QueueCounts,
  RetentionSpec,
  TaskBackend,
  TaskBackendEvent,
  TaskErrorInfo,
  TaskRecord,
  TaskState,
  WorkerInfo,
} from '../types.js';
import {
  ADD,
  CANCEL,
  CLAIM,
  CLAIM_FIELDS,
  COUNTS,
  FINISH,
  HEARTBEAT,
  ONCE,
  PROGRESS,
  PURGE,
  RECOVER,
  RELEASE,
  REMOVE_WORKER,
  RENEW,
  RETRY_DEAD,
  WORKERS,
} from './redis/scripts.js';

export type { RedisClient } from '../../redis/client.js';

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

/**
 * A Redis command of the task backend failed (Redis unreachable, a timeout, a script error). The
 * engine treats it like any failed store call: it retries claims and acknowledgements later.
 *
 * @example
 * ```ts
 * try { await backend.claim('default', 'w1', 10, 30_000); }
 * catch (error) { if (error instanceof TaskBackendError) console.warn(error.context.operation); }
 * ```
 */
export class TaskBackendError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super('E_TASK_BACKEND', message, { context, cause });
  }
}

const DEFAULT_PREFIX = 'enterprise:tasks';
const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;
/**
 * Claims of at most this many tasks get their payloads from the claim script itself; larger ones
 * read them with one MGET after it. Carrying a payload through Lua costs Redis more than reading
 * it natively, but the MGET is a second round trip and command: for a worker with few slots, whose
 * claims are small and frequent, the round trip costs more than it saves.
 */
const INLINE_PAYLOADS_MAX = 32;
/** Delayed tasks moved to ready per claim: bounds the work of one claim after a long pause. */
const PROMOTE_BATCH = 1_000;
/** Expired leases recovered per script call, and calls per `recoverExpired`. */
const RECOVER_BATCH = 500;
const RECOVER_ROUNDS = 100;
const PURGE_BATCH = 500;
/** Longest single BZPOPMIN; a longer `waitForWork` is allowed to wake up spuriously. */
const MAX_BLOCK_MS = 30_000;
/** Extra time a BZPOPMIN gets over its own timeout before the connection is deemed hung. */
const BLOCK_GRACE_MS = 2_000;
/** Pause after a failed wait, so that a worker loop does not spin while Redis is away. */
const ERROR_PAUSE_MS = 250;

/** The keys of one queue; built once per queue. */
interface QueueKeys {
  /** `<prefix>:{<queue>}:`: every key of the queue starts with it (one Cluster slot). */
  base: string;
  ready: string;
  delayed: string;
  active: string;
  blocked: string;
  completed: string;
  dead: string;
  cancelled: string;
  paused: string;
  seq: string;
  marker: string;
  workers: string;
  workersExp: string;
}

/** One BZPOPMIN cycle of a queue, shared by the `waitForWork` calls that arrive meanwhile. */
interface WaitRound {
  waiters: number;
  done: Promise<void>;
}

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
  readonly #owned: boolean;
  readonly #url: string | undefined;
  readonly #timeoutMs: number;
  readonly #onError: ((error: Error) => void) | undefined;
  /** A given client without its own commandTimeout: the backend bounds each call itself. */
  readonly #guardCalls: boolean;
  readonly #keys = new Map<string, QueueKeys>();
  /** Queues this process has recorded in `<prefix>:queues`. */
  readonly #recorded = new Set<string>();
  readonly #blocking = new Map<string, RedisClient>();
  readonly #rounds = new Map<string, WaitRound>();
  readonly #listeners = new Set<(event: TaskBackendEvent) => void>();
  /** Claims whose script has not answered yet (settled when it does, never rejected). */
  readonly #claimScripts = new Set<Promise<void>>();
  /** Request ids: unique per call, so a re-sent call is recognised (see the scripts' memo). */
  readonly #ridPrefix = randomBytes(8).toString('hex');
  #ridSeq = 0;
  /** How long a call's answer is remembered for a re-send: longer than any retry can come. */
  readonly #memoMs: number;
  #subscriber: RedisClient | undefined;
  #connecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: RedisTaskBackendOptions) {
    this.prefix = checkPrefix(options.prefix ?? DEFAULT_PREFIX);
    this.#timeoutMs = checkTimeout(
      options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      'commandTimeoutMs',
    );
    this.commandTimeoutMs = this.#timeoutMs;
    this.retention = resolveRetention(options.retention);
    this.#memoMs = Math.max(30_000, 4 * this.#timeoutMs);
    this.#onError = options.onError;
    this.#url = options.url;
    const onError = (error: Error) => this.#report(error);
    // A connection of our own is named, so that CLIENT LIST tells which process holds what.
    const { client, owned } =
      options.client === undefined && typeof options.url === 'string' && options.url !== ''
        ? {
            client: createClient(options.url, this.#timeoutMs, onError, {
              connectionName: `${this.prefix}:cmd`,
              // Opened by the first call, not by the constructor.
              lazyConnect: true,
            }),
            owned: true,
          }
        : resolveClient(
            { client: options.client, url: options.url, onError },
            this.#timeoutMs,
            'redisTaskBackend',
          );
    const keyPrefix = client.isCluster
      ? (client as Cluster).options.keyPrefix
      : (client as Redis).options.keyPrefix;
    if (keyPrefix) {
      // ioredis adds keyPrefix to declared keys only, not to the keys the scripts build.
      throw new InvalidArgumentError(
        `redisTaskBackend: the client has keyPrefix=${describeValue(keyPrefix)}: use the backend's prefix option instead`,
        { argument: 'client', value: keyPrefix, expected: 'a client without keyPrefix' },
      );
    }
    this.client = client;
    this.#owned = owned;
    this.#guardCalls = !owned && typeof redisOptionsOf(client).commandTimeout !== 'number';
    this.channel = `${this.prefix}:events`;
  }

  async add(tasks: readonly NewTask[]): Promise<AddOutcome[]> {
    if (tasks.length === 0) return [];
    // One script per queue; a call is nearly always one queue.
    const byQueue = new Map<string, number[]>();
    tasks.forEach((task, i) => {
      const list = byQueue.get(task.queue);
      if (list === undefined) byQueue.set(task.queue, [i]);
      else list.push(i);
    });
    const outcomes = new Array<AddOutcome>(tasks.length);
    // A call that spans queues is validated in every queue before any of them is written (one
    // script per queue: they may live in different Cluster slots).
    if (byQueue.size > 1) {
      for (const [queue, indexes] of byQueue) await this.#addToQueue(tasks, queue, indexes, true);
    }
    for (const [queue, indexes] of byQueue) {
      const reply = await this.#addToQueue(tasks, queue, indexes, false);
      indexes.forEach((index, j) => {
        outcomes[index] = {
          id: reply[1 + j * 3]!,
          created: Number(reply[2 + j * 3]) === 1,
          state: reply[3 + j * 3] as TaskState,
        };
      });
    }
    return outcomes;
  }

  /** Runs ADD for the tasks of one queue (`dryRun`: validation only); throws what it refuses. */
  async #addToQueue(
    tasks: readonly NewTask[],
    queue: string,
    indexes: readonly number[],
    dryRun: boolean,
  ): Promise<string[]> {
    const k = this.#queueKeys(queue);
    const keys = [k.seq, k.ready, k.delayed, k.blocked, k.dead, k.marker, this.#memoKey(k)];
    const args: (string | number)[] = [
      k.base,
      this.channel,
      queue,
      indexes.length,
      dryRun ? 1 : 0,
      this.#memoMs,
      this.retention.dead.count,
      this.retention.dead.ageMs,
      Date.now(),
    ];
    for (const i of indexes) {
      const t = tasks[i]!;
      const deps = t.dependsOn ?? [];
      const uniqueForMs = t.uniqueForMs !== undefined && t.uniqueForMs > 0 ? t.uniqueForMs : 0;
      keys.push(k.base + 't:' + t.id, k.base + 'p:' + t.id);
      if (uniqueForMs > 0) keys.push(k.base + 'u:' + t.id);
      args.push(
        t.id,
        t.name,
        t.payload,
        t.priority,
        t.runAt,
        metaJson(t, deps),
        t.failOnDependencyFailure === false ? 0 : 1,
        t.createdAt,
        Math.ceil(uniqueForMs),
        deps.length,
      );
      if (deps.length > 0) {
        keys.push(k.base + 'pending:' + t.id);
        for (const dep of deps) {
          keys.push(k.base + 't:' + dep, k.base + 'dependents:' + dep);
          args.push(dep);
        }
      }
    }
    const reply = (await this.#run('add', queue, (client) =>
      Promise.all([runScript(client, ADD, keys, args), this.#record(client, queue)]),
    ).then(([result]) => result)) as string[];
    if (reply[0] === 'unknown') {
      throw new TaskDependencyError(
        `task ${reply[1]} depends on ${reply[2]}, which is no task of queue ${describeValue(queue)}`,
        { queue, id: reply[1], dependency: reply[2] },
      );
    }
    if (reply[0] === 'cycle') {
      throw new TaskDependencyError(
        `task ${reply[1]} is part of a dependency cycle among the tasks submitted together`,
        { queue, id: reply[1] },
      );
    }
    return reply;
  }

  async claim(
    queue: string,
    workerId: string,
    max: number,
    leaseMs: number,
  ): Promise<ClaimedTask[]> {
    if (!(max >= 1)) return [];
    const k = this.#queueKeys(queue);
    const now = Date.now();
    const leaseUntil = now + leaseMs;
    const inline = max <= INLINE_PAYLOADS_MAX;
    const memo = this.#memoKey(k);
    const width = inline ? CLAIM_FIELDS + 1 : CLAIM_FIELDS;
    // The script returns what a worker needs of each hash, flat, as it was before the claim; the
    // payloads follow in one MGET. Carrying each payload into the script and out again was most
    // of a claim's cost in Redis; a native read of the same texts costs it a fraction of that.
    // (Reading the hashes natively too, one HMGET per task, was measured before: it saved Redis
    // about 5 µs per task and cost this process about 15 µs in commands and replies.)
    const script = this.#run('claim', queue, (client) =>
      runScript(
        client,
        CLAIM,
        [k.ready, k.delayed, k.active, k.paused, k.marker, k.seq, memo],
        [Math.floor(max), leaseMs, workerId, k.base, PROMOTE_BATCH, inline ? 1 : 0, this.#memoMs],
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
    const count = rows.length / width;
    if (count === 0) return [];
    let payloads: (string | null)[] | undefined;
    if (!inline) {
      const payloadKeys: string[] = new Array(count);
      for (let i = 0; i < count; i++) payloadKeys[i] = k.base + 'p:' + rows[i * width];
      // Should this read fail, the claimed tasks come back when their leases expire, as those of
      // a claim whose reply was lost do.
      payloads = await this.#run('claim', queue, (client) => client.mget(payloadKeys));
    }
    const claimed: ClaimedTask[] = new Array(count);
    // Tasks submitted together share their meta text (same options, same creation time): parsed
    // once per run of equal texts. The records then share its backoff and dependency list, frozen
    // so that a change to one task's (an event listener's, say) cannot reach its neighbours.
    let metaText: string | null | undefined;
    let meta: Partial<TaskMeta> = {};
    for (let i = 0, at = 0; i < count; i++, at += width) {
      const text = rows[at + 4] as string | null;
      if (text !== metaText || i === 0) {
        metaText = text;
        meta = readMeta(text);
        if (meta.bo !== undefined) Object.freeze(meta.bo);
        if (meta.dp !== undefined) Object.freeze(meta.dp);
      }
      const task: TaskRecord = {
        id: rows[at] as string,
        name: (rows[at + 3] as string | null) ?? '',
        queue,
        // A payload gone meanwhile (its task finished elsewhere and was trimmed) is no JSON: the
        // attempt fails as a bad payload, and its finish is refused by the token.
        payload: ((payloads === undefined ? rows[at + 10] : payloads[i]) as string | null) ?? '',
        priority: Number(rows[at + 5] ?? 0),
        runAt: Number(rows[at + 6] ?? 0),
        maxRetries: Number(meta.mr ?? 0),
        backoff: meta.bo ?? { ...DEFAULT_BACKOFF },
        timeoutMs: Number(meta.to ?? 0),
        dependsOn: meta.dp ?? NO_DEPENDENCIES,
        failOnDependencyFailure: rows[at + 7] !== '0',
        createdAt: Number(meta.ca ?? 0),
        // What the claim wrote; `attempts` is the number this attempt has once it starts.
        state: 'active',
        attempts: Number(rows[at + 2]),
        startedAt: now,
        workerId,
      };
      const error = rows[at + 8];
      if (error !== null && error !== undefined)
        task.error = parseJson(error as string) as TaskErrorInfo;
      const progress = rows[at + 9];
      if (progress !== null && progress !== undefined) task.progress = progress as string;
      claimed[i] = { task, token: String(rows[at + 1]), leaseUntil };
      // The record holds the payload now. Left in the reply too, every payload of the claim
      // lived as long as the reply array did, and V8's traces of a loaded worker showed
      // young-generation collections copying and promoting the payloads of whole claims.
      if (payloads !== undefined) payloads[i] = null;
    }
    return claimed;
  }

  async waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.#closing !== undefined || !(timeoutMs > 0)) return;
    let round = this.#rounds.get(queue);
    if (round === undefined) {
      const created: WaitRound = { waiters: 0, done: Promise.resolve() };
      created.done = this.#waitRound(queue, Math.min(timeoutMs, MAX_BLOCK_MS), created).finally(
        () => {
          if (this.#rounds.get(queue) === created) this.#rounds.delete(queue);
        },
      );
      this.#rounds.set(queue, created);
      round = created;
    }
    const shared = round;
    shared.waiters++;
    await new Promise<void>((resolve) => {
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        shared.waiters--;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      signal.addEventListener('abort', done, { once: true });
      shared.done.then(done, done);
    });
  }

  async renewLeases(queue: string, leases: readonly Lease[], leaseMs: number): Promise<string[]> {
    if (leases.length === 0) return [];
    const k = this.#queueKeys(queue);
    const keys = [k.active];
    const args: (string | number)[] = [leaseMs];
    for (const lease of leases) {
      keys.push(k.base + 't:' + lease.id);
      args.push(lease.id, lease.token);
    }
    return (await this.#run('renewLeases', queue, (client) =>
      runScript(client, RENEW, keys, args),
    )) as string[];
  }

  async finish(
    queue: string,
    outcomes: readonly AttemptOutcome[],
    started: readonly Lease[] = [],
  ): Promise<FinishResult[]> {
    if (outcomes.length === 0 && started.length === 0) return [];
    // Claims whose script is in flight go first: their payload read is sent when the script
    // answers, and queued behind this finish (a few hundred outcomes hold Redis for milliseconds)
    // it would keep the worker waiting for its next batch while it has nothing to run.
    if (this.#claimScripts.size > 0) await Promise.all(this.#claimScripts);
    const k = this.#queueKeys(queue);
    const r = this.retention;
    const keys = [
      k.active,
      k.ready,
      k.delayed,
      k.completed,
      k.dead,
      k.blocked,
      k.marker,
      this.#memoKey(k),
    ];
    const args: (string | number)[] = [
      k.base,
      this.channel,
      queue,
      r.completed.count,
      r.completed.ageMs,
      r.dead.count,
      r.dead.ageMs,
      this.#memoMs,
      started.length,
      Date.now(),
    ];
    for (const lease of started) {
      keys.push(k.base + 't:' + lease.id);
      args.push(lease.id, lease.token);
    }
    for (const o of outcomes) {
      keys.push(k.base + 't:' + o.id);
      switch (o.kind) {
        case 'completed':
          if (o.result === undefined) args.push('n', o.id, o.token, '', o.finishedAt);
          else args.push('c', o.id, o.token, o.result, o.finishedAt);
          break;
        case 'retry':
          args.push('r', o.id, o.token, errorJson(o.error), o.runAt);
          break;
        default:
          args.push('d', o.id, o.token, errorJson(o.error), o.finishedAt);
      }
    }
    const reply = (await this.#run('finish', queue, (client) =>
      runScript(client, FINISH, keys, args),
    )) as (number | string)[];
    const results: FinishResult[] = new Array(outcomes.length);
    let at = 0;
    for (let i = 0; i < outcomes.length; i++) {
      const result: FinishResult = { id: outcomes[i]!.id, accepted: Number(reply[at++]) === 1 };
      const releasedCount = Number(reply[at++]);
      if (releasedCount > 0) result.released = reply.slice(at, at + releasedCount).map(String);
      at += releasedCount;
      const killedCount = Number(reply[at++]);
      if (killedCount > 0) result.killed = reply.slice(at, at + killedCount).map(String);
      at += killedCount;
      results[i] = result;
    }
    return results;
  }

  async release(queue: string, leases: readonly Lease[]): Promise<void> {
    if (leases.length === 0) return;
    const k = this.#queueKeys(queue);
    const keys = [k.active, k.ready, k.marker];
    const args: string[] = [];
    for (const lease of leases) {
      keys.push(k.base + 't:' + lease.id);
      args.push(lease.id, lease.token);
    }
    await this.#run('release', queue, (client) => runScript(client, RELEASE, keys, args));
  }

  /** Leases end by the Redis server's clock: `_now` (the caller's) is not used. */
  async recoverExpired(queue: string, _now?: number): Promise<number> {
    const k = this.#queueKeys(queue);
    const r = this.retention;
    let recovered = 0;
    // Bounded: RECOVER_ROUNDS * RECOVER_BATCH leases per call at most; the engine calls it again.
    for (let round = 0; round < RECOVER_ROUNDS; round++) {
      const [count, scanned] = (await this.#run('recoverExpired', queue, (client) =>
        runScript(
          client,
          RECOVER,
          [k.active, k.ready, k.marker, k.delayed, k.blocked, k.dead],
          [k.base, RECOVER_BATCH, this.channel, queue, r.dead.count, r.dead.ageMs],
        ),
      )) as [number, number];
      recovered += Number(count);
      if (Number(scanned) < RECOVER_BATCH) break;
    }
    return recovered;
  }

  async setProgress(queue: string, lease: Lease, progress: string): Promise<boolean> {
    const k = this.#queueKeys(queue);
    const stored = await this.#run('setProgress', queue, (client) =>
      runScript(
        client,
        PROGRESS,
        [k.base + 't:' + lease.id],
        [lease.token, progress, this.channel, queue, lease.id],
      ),
    );
    return Number(stored) === 1;
  }

  async get(queue: string, id: string): Promise<TaskRecord | undefined> {
    const k = this.#queueKeys(queue);
    const [hash, payload, pending] = await this.#run('get', queue, async (client) => {
      const results =
        (await client
          .pipeline()
          .hgetall(k.base + 't:' + id)
          .get(k.base + 'p:' + id)
          .smembers(k.base + 'pending:' + id)
          .exec()) ?? [];
      for (const [error] of results) if (error) throw error;
      return results.map(([, value]) => value) as [Record<string, string>, string | null, string[]];
    });
    if (hash === undefined || hash === null || hash[FIELD.state] === undefined) return undefined;
    const record = recordFromHash(queue, id, hash, payload);
    if (record.state === 'blocked') record.pendingDependencies = [...pending].sort();
    return record;
  }

  async cancel(queue: string, id: string): Promise<boolean> {
    const k = this.#queueKeys(queue);
    const r = this.retention;
    const keys = [
      k.base + 't:' + id,
      k.base + 'pending:' + id,
      k.ready,
      k.delayed,
      k.blocked,
      k.cancelled,
      k.dead,
      k.marker,
      this.#memoKey(k),
    ];
    const args = [
      k.base,
      this.channel,
      queue,
      id,
      r.completed.count,
      r.completed.ageMs,
      r.dead.count,
      r.dead.ageMs,
      this.#memoMs,
    ];
    const done = await this.#run('cancel', queue, (client) =>
      runScript(client, CANCEL, keys, args),
    );
    return Number(done) === 1;
  }

  async counts(queue: string): Promise<QueueCounts> {
    const k = this.#queueKeys(queue);
    const reply = (await this.#run('counts', queue, (client) =>
      runScript(
        client,
        COUNTS,
        [k.ready, k.delayed, k.blocked, k.active, k.completed, k.dead, k.paused],
        [k.base],
      ),
    )) as (number | string)[];
    const counts: QueueCounts = {
      waiting: Number(reply[0]),
      delayed: Number(reply[1]),
      blocked: Number(reply[2]),
      active: Number(reply[3]),
      completed: Number(reply[4]),
      dead: Number(reply[5]),
      paused: Number(reply[6]) === 1,
    };
    if (reply[7] !== '' && reply[7] !== undefined) counts.oldestWaitingAt = Number(reply[7]);
    return counts;
  }

  async listDead(queue: string, offset: number, limit: number): Promise<TaskRecord[]> {
    if (!(limit >= 1)) return [];
    const k = this.#queueKeys(queue);
    const from = Math.max(0, Math.floor(offset));
    return this.#run('listDead', queue, async (client) => {
      const ids = await client.zrevrange(k.dead, from, from + Math.floor(limit) - 1);
      if (ids.length === 0) return [];
      const pipeline = client.pipeline();
      for (const id of ids) pipeline.hgetall(k.base + 't:' + id).get(k.base + 'p:' + id);
      const results = (await pipeline.exec()) ?? [];
      const records: TaskRecord[] = [];
      for (let i = 0; i < ids.length; i++) {
        const [hashError, hash] = results[2 * i] ?? [];
        const [payloadError, payload] = results[2 * i + 1] ?? [];
        if (hashError) throw hashError;
        if (payloadError) throw payloadError;
        const fields = hash as Record<string, string>;
        if (fields[FIELD.state] !== undefined) {
          records.push(recordFromHash(queue, ids[i]!, fields, payload as string | null));
        }
      }
      return records;
    });
  }

  async retryDead(queue: string, id: string): Promise<boolean> {
    const k = this.#queueKeys(queue);
    const keys = [
      k.base + 't:' + id,
      k.dead,
      k.ready,
      k.marker,
      k.blocked,
      k.base + 'pending:' + id,
      this.#memoKey(k),
    ];
    const args = [id, k.base, this.#memoMs];
    const [done, dependency, state] = (await this.#run('retryDead', queue, (client) =>
      runScript(client, RETRY_DEAD, keys, args),
    )) as [number, string?, string?];
    if (Number(done) === 2) throw retryRefused(queue, id, dependency!, state!);
    return Number(done) === 1;
  }

  async purgeDead(queue: string): Promise<number> {
    const k = this.#queueKeys(queue);
    let purged = 0;
    // Batches keep each script short; a dead set refilled faster than this drains is not ours to chase.
    for (let round = 0; round < 10_000; round++) {
      const count = Number(
        await this.#run('purgeDead', queue, (client) =>
          runScript(client, PURGE, [k.dead], [k.base, PURGE_BATCH]),
        ),
      );
      purged += count;
      if (count < PURGE_BATCH) break;
    }
    return purged;
  }

  async pause(queue: string): Promise<void> {
    const k = this.#queueKeys(queue);
    // The event goes out in the same MULTI as the flag, so no process hears it before claims stop.
    const message = JSON.stringify({ q: queue, e: [['paused', '', '']] });
    await this.#run('pause', queue, async (client) => {
      const results =
        (await client.multi().set(k.paused, '1').publish(this.channel, message).exec()) ?? [];
      for (const [error] of results) if (error) throw error;
    });
  }

  async resume(queue: string): Promise<void> {
    const k = this.#queueKeys(queue);
    const message = JSON.stringify({ q: queue, e: [['resumed', '', '']] });
    await this.#run('resume', queue, async (client) => {
      // The marker wakes the workers that went back to waiting while the queue was paused.
      const results =
        (await client
          .multi()
          .del(k.paused)
          .zadd(k.marker, 0, 'r')
          .publish(this.channel, message)
          .exec()) ?? [];
      for (const [error] of results) if (error) throw error;
    });
  }

  async heartbeat(worker: WorkerInfo, ttlMs: number): Promise<void> {
    const k = this.#queueKeys(worker.queue);
    await this.#run('heartbeat', worker.queue, (client) =>
      runScript(
        client,
        HEARTBEAT,
        [k.workers, k.workersExp],
        [worker.id, JSON.stringify(worker), Math.ceil(ttlMs)],
      ),
    );
  }

  async removeWorker(queue: string, workerId: string): Promise<void> {
    const k = this.#queueKeys(queue);
    await this.#run('removeWorker', queue, (client) =>
      runScript(client, REMOVE_WORKER, [k.workers, k.workersExp], [workerId]),
    );
  }

  async workers(queue: string): Promise<WorkerInfo[]> {
    const k = this.#queueKeys(queue);
    const [serverNow, ...values] = (await this.#run('workers', queue, (client) =>
      runScript(client, WORKERS, [k.workers, k.workersExp], []),
    )) as [number, ...string[]];
    const workers: WorkerInfo[] = [];
    // Heartbeat times are the server's; shown on this process's clock, as the age it has.
    const now = Date.now();
    for (const value of values) {
      const bar = value.indexOf('|');
      try {
        const worker = JSON.parse(value.slice(bar + 1)) as WorkerInfo;
        if (bar > 0)
          worker.lastHeartbeatAt = now - (Number(serverNow) - Number(value.slice(0, bar)));
        workers.push(worker);
      } catch {
        // Written by something else: not a worker this backend can describe.
      }
    }
    return workers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async claimScheduleSlot(name: string, slot: number, ttlMs: number): Promise<boolean> {
    const key = `${this.prefix}:schedule:${hashTag(name)}:${slot}`;
    const px = Math.max(1, Math.ceil(ttlMs));
    // The marker holds this call's id: a re-sent call recognises its own marker.
    const owner = this.#rid();
    const reply = await this.#run('claimScheduleSlot', undefined, (client) =>
      runScript(client, ONCE, [key], [owner, px]),
    );
    return Number(reply) === 1;
  }

  async queues(): Promise<string[]> {
    const names = await this.#run('queues', undefined, (client) =>
      client.smembers(`${this.prefix}:queues`),
    );
    return names.sort();
  }

  subscribe(listener: (event: TaskBackendEvent) => void): () => void {
    if (this.#closing !== undefined) return () => undefined;
    this.#listeners.add(listener);
    this.#ensureSubscriber();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Closes the connections the backend opened (never a given client). Idempotent. */
  async close(): Promise<void> {
    this.#closing ??= this.#close();
    await this.#closing;
  }

  async #close(): Promise<void> {
    this.#listeners.clear();
    const closing: Promise<void>[] = [];
    // A blocking connection is busy with its BZPOPMIN: QUIT would wait behind it, so it is dropped.
    for (const client of this.#blocking.values()) closing.push(dropClient(client));
    this.#blocking.clear();
    if (this.#subscriber !== undefined) closing.push(quitClient(this.#subscriber));
    if (this.#owned) closing.push(quitClient(this.client));
    await Promise.all(closing);
    await Promise.allSettled([...this.#rounds.values()].map((round) => round.done));
  }

  // -------------------------------------------------------------------------------------------
  // Waiting for work
  // -------------------------------------------------------------------------------------------

  /**
   * One blocking cycle on the queue's marker. Member `r` means ready work: return. Member `d`
   * carries the time a delayed task becomes due: keep blocking until then (a new marker, such as a
   * task added meanwhile, ends the wait sooner), then return so that the caller's claim promotes
   * it. A marker popped after every waiter left is put back, so no wake-up is lost.
   */
  async #waitRound(queue: string, blockMs: number, round: WaitRound): Promise<void> {
    const k = this.#queueKeys(queue);
    let deadline = Date.now() + blockMs;
    let dueMarker: number | undefined;
    try {
      for (let cycle = 0; cycle < 1_000; cycle++) {
        const left = deadline - Date.now();
        if (left <= 0 || this.#closing !== undefined) break;
        const client = this.#blockingClient(queue);
        const popped = await this.#guardBlocking(
          client,
          client.bzpopmin(k.marker, Math.max(0.01, left / 1_000).toFixed(3)),
          left + BLOCK_GRACE_MS,
        );
        if (popped === null || popped === undefined) break;
        const member = popped[1];
        if (member === 'r') {
          if (round.waiters === 0) this.#restoreMarker(k.marker, 0, 'r');
          dueMarker = undefined;
          return;
        }
        const due = Number(popped[2]);
        if (!(due > Date.now())) {
          if (round.waiters === 0) this.#restoreMarker(k.marker, due, 'd');
          return;
        }
        dueMarker = dueMarker === undefined ? due : Math.min(due, dueMarker);
        deadline = Math.min(deadline, due);
      }
      // Leaving before a delayed task we know of is due: leave its marker for the next waiter.
      if (dueMarker !== undefined && dueMarker > Date.now()) {
        this.#restoreMarker(k.marker, dueMarker, 'd');
      }
    } catch (error) {
      if (this.#closing !== undefined) return;
      this.#report(asError(error));
      if (dueMarker !== undefined) this.#restoreMarker(k.marker, dueMarker, 'd');
      const pause = Math.min(ERROR_PAUSE_MS, Math.max(0, deadline - Date.now()));
      await new Promise<void>((resolve) => setTimeout(resolve, pause).unref());
    }
  }

  /** Bounds a blocking command; on a hung connection drops it so that ioredis reconnects. */
  #guardBlocking<T>(client: RedisClient, command: Promise<T>, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no answer to BZPOPMIN in ${ms} ms: reconnecting`));
        client.disconnect(true);
      }, ms);
      timer.unref();
      command.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  #restoreMarker(marker: string, score: number, member: 'r' | 'd'): void {
    if (this.#closing !== undefined) return;
    const args = member === 'd' ? (['LT', score, 'd'] as const) : ([0, 'r'] as const);
    (this.client.zadd as (...a: unknown[]) => Promise<unknown>)(marker, ...args).catch(
      (error: unknown) => this.#report(asError(error)),
    );
  }

  #blockingClient(queue: string): RedisClient {
    let client = this.#blocking.get(queue);
    if (client !== undefined) return client;
    // The blocking connection must not time out a BZPOPMIN by the command timeout, and must keep
    // a wait issued during a reconnection until the connection is back.
    const overrides: Partial<RedisOptions> = {
      commandTimeout: undefined,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      blockingTimeout: MAX_BLOCK_MS + BLOCK_GRACE_MS,
      blockingTimeoutGrace: BLOCK_GRACE_MS,
      connectionName: `${this.prefix}:wait`,
    };
    client = this.#duplicate(overrides);
    this.#blocking.set(queue, client);
    return client;
  }

  #duplicate(overrides: Partial<RedisOptions>): RedisClient {
    if (this.#owned) {
      return createClient(this.#url!, this.#timeoutMs, (error) => this.#report(error), overrides);
    }
    let copy: RedisClient;
    if (this.client.isCluster) {
      const cluster = this.client as Cluster;
      copy = cluster.duplicate(undefined, {
        redisOptions: { ...cluster.options.redisOptions, ...overrides },
        enableOfflineQueue: overrides.enableOfflineQueue ?? cluster.options.enableOfflineQueue,
      });
    } else {
      copy = (this.client as Redis).duplicate(overrides);
    }
    copy.on('error', (error: Error) => this.#report(error));
    return copy;
  }

  // -------------------------------------------------------------------------------------------
  // Events
  // -------------------------------------------------------------------------------------------

  #ensureSubscriber(): void {
    if (this.#subscriber !== undefined) return;
    const subscriber = this.#duplicate({
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      connectionName: `${this.prefix}:events`,
    });
    this.#subscriber = subscriber;
    subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.#deliver(text);
    });
    // ioredis re-subscribes after a reconnection by itself; subscribing on every 'ready' also
    // covers a first subscription that was lost with the connection before it was confirmed.
    subscriber.on('ready', () => {
      if (this.#closing !== undefined) return;
      subscriber.subscribe(this.channel).catch((error: unknown) => this.#report(asError(error)));
    });
    subscriber.subscribe(this.channel).catch((error: unknown) => this.#report(asError(error)));
  }

  #deliver(text: string): void {
    let message: { q?: unknown; e?: unknown };
    try {
      message = JSON.parse(text) as { q?: unknown; e?: unknown };
    } catch {
      this.#report(new TaskBackendError('redis task backend: ignored a malformed event message'));
      return;
    }
    if (typeof message.q !== 'string' || !Array.isArray(message.e)) return;
    for (const entry of message.e) {
      if (!Array.isArray(entry)) continue;
      const [type, id, name] = entry as unknown[];
      if (typeof type !== 'string' || typeof id !== 'string') continue;
      const event = {
        type,
        queue: message.q,
        id,
        name: typeof name === 'string' ? name : '',
      } as TaskBackendEvent;
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch (error) {
          this.#report(asError(error));
        }
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Commands
  // -------------------------------------------------------------------------------------------

  /**
   * Runs one backend operation on the command connection: waits for the connection while it
   * reconnects (up to the command timeout), and retries once when the connection dropped under
   * the call. A call is built once, so a retry (or ioredis re-sending what a dropped connection
   * left unanswered) repeats it with the same request id: add, claim, finish, cancel and
   * retryDead answer a repeat from their memo, the other calls are idempotent.
   */
  async #run<T>(
    operation: string,
    queue: string | undefined,
    fn: (client: RedisClient) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (this.#closing !== undefined) {
        throw new TaskBackendError(`redis task backend: ${operation} after close()`, {
          backend: 'redis',
          operation,
          queue,
        });
      }
      try {
        if (this.client.status !== 'ready') await this.#connected();
        const pending = fn(this.client);
        return await (this.#guardCalls
          ? rejectAfter(pending, this.#timeoutMs, `Command timed out after ${this.#timeoutMs} ms`)
          : pending);
      } catch (error) {
        if (attempt === 0 && isConnectionError(error) && this.#closing === undefined) {
          continue;
        }
        throw this.#failure(operation, error, queue);
      }
    }
  }

  /** Waits for the command connection, opening it on first use (a lazy client is in `wait`). */
  async #connected(): Promise<void> {
    if (this.client.status === 'wait') {
      this.#connecting ??= this.client.connect().catch(() => undefined);
      await this.#connecting;
      this.#connecting = undefined;
    }
    await whenReady(this.client, this.#timeoutMs);
  }

  /** Records the queue in `<prefix>:queues` (other slot than the queue's keys: not in a script). */
  async #record(client: RedisClient, queue: string): Promise<void> {
    if (this.#recorded.has(queue)) return;
    await client.sadd(`${this.prefix}:queues`, queue);
    this.#recorded.add(queue);
  }

  #rid(): string {
    this.#ridSeq += 1;
    return this.#ridPrefix + this.#ridSeq.toString(36);
  }

  /** A fresh memo key for one call of a queue's script (same hash slot as the queue). */
  #memoKey(k: QueueKeys): string {
    return k.base + 'req:' + this.#rid();
  }

  #queueKeys(queue: string): QueueKeys {
    let keys = this.#keys.get(queue);
    if (keys === undefined) {
      const base = `${this.prefix}:${hashTag(queue)}:`;
      keys = {
        base,
        ready: base + 'ready',
        delayed: base + 'delayed',
        active: base + 'active',
        blocked: base + 'blocked',
        completed: base + 'completed',
        dead: base + 'dead',
        cancelled: base + 'cancelled',
        paused: base + 'paused',
        seq: base + 'seq',
        marker: base + 'marker',
        workers: base + 'workers',
        workersExp: base + 'workers:exp',
      };
      if (this.#keys.size >= 10_000) this.#keys.clear();
      this.#keys.set(queue, keys);
    }
    return keys;
  }

  #failure(operation: string, error: unknown, queue: string | undefined): Error {
    if (error instanceof EnterpriseError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new TaskBackendError(
      `redis task backend: ${operation} failed: ${message}`,
      { backend: 'redis', operation, ...(queue === undefined ? {} : { queue }) },
      error,
    );
  }

  #report(error: Error): void {
    try {
      this.#onError?.(error);
    } catch {
      // Reporting must never throw into ioredis' event emitter or a worker loop.
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

const FIELD = {
  state: 's',
} as const;

const NO_DEPENDENCIES: readonly string[] = Object.freeze([]);

/** The `m` field: what only the engine reads, in one JSON text. */
interface TaskMeta {
  mr: number;
  bo: BackoffSpec;
  to: number;
  ca: number;
  dp?: string[];
}

function metaJson(t: NewTask, deps: readonly string[]): string {
  const meta: TaskMeta = { mr: t.maxRetries, bo: t.backoff, to: t.timeoutMs, ca: t.createdAt };
  if (deps.length > 0) meta.dp = [...deps];
  return JSON.stringify(meta);
}

/** The `m` field, parsed; empty for a hash without it (written by something else). */
function readMeta(text: string | null | undefined): Partial<TaskMeta> {
  return ((text === null || text === undefined ? undefined : parseJson(text)) ??
    {}) as Partial<TaskMeta>;
}

function recordFromHash(
  queue: string,
  id: string,
  h: Record<string, string>,
  payload: string | null | undefined,
): TaskRecord {
  const meta = readMeta(h.m);
  const record: TaskRecord = {
    id,
    name: h.n ?? '',
    queue,
    payload: payload ?? '',
    priority: Number(h.pr ?? 0),
    runAt: Number(h.ra ?? 0),
    maxRetries: Number(meta.mr ?? 0),
    backoff: meta.bo ?? { ...DEFAULT_BACKOFF },
    timeoutMs: Number(meta.to ?? 0),
    dependsOn: meta.dp ?? NO_DEPENDENCIES,
    failOnDependencyFailure: h.ff !== '0',
    createdAt: Number(meta.ca ?? 0),
    state: (h.s ?? 'waiting') as TaskState,
    attempts: Number(h.a ?? 0),
  };
  if (h.sa !== undefined) record.startedAt = Number(h.sa);
  if (h.fa !== undefined) record.finishedAt = Number(h.fa);
  if (h.r !== undefined) record.result = h.r;
  if (h.e !== undefined) record.error = parseJson(h.e) as TaskErrorInfo;
  if (h.pg !== undefined) record.progress = h.pg;
  // A finished task keeps the fields of its last lease in Redis; the record shows a worker only
  // while one holds it.
  if (h.w !== undefined && record.state === 'active') record.workerId = h.w;
  return record;
}

/** Only for a hash without its `m` field (written by something else). */
const DEFAULT_BACKOFF: BackoffSpec = {
  type: 'exponential',
  delayMs: 1_000,
  factor: 2,
  maxDelayMs: 60_000,
  jitter: 0,
};

function noop(): void {}

function retryRefused(queue: string, id: string, dependency: string, state: string): Error {
  return new TaskDependencyError(
    `task ${id} cannot be retried while its dependency ${dependency} is ${state}: retry ${dependency} first`,
    { queue, id, dependency, state },
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorJson(error: TaskErrorInfo): string {
  const info: TaskErrorInfo = { name: String(error.name), message: String(error.message) };
  if (error.stack !== undefined) info.stack = String(error.stack);
  if (error.code !== undefined) info.code = String(error.code);
  return JSON.stringify(info);
}

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

function redisOptionsOf(client: RedisClient): Partial<RedisOptions> {
  return client.isCluster
    ? ((client as Cluster).options.redisOptions ?? {})
    : (client as Redis).options;
}

/** Disconnects at once (a blocked connection would answer QUIT only after its wait). */
async function dropClient(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  const ended = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1_000);
    timer.unref();
    client.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  client.disconnect();
  await ended;
}

const CONNECTION_ERROR =
  /Connection is closed|Stream isn't writeable|ECONNRESET|EPIPE|ECONNREFUSED|ETIMEDOUT|not connected|Command timed out|socket/i;

function isConnectionError(error: unknown): boolean {
  return error instanceof Error && CONNECTION_ERROR.test(error.message);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  AttemptOutcome,
  BackoffSpec,
  ClaimedTask,
  Lease,
  NewTask,
  RetentionSpec,
  TaskBackend,
  TaskBackendEvent,
  TaskErrorInfo,
} from '../../tasks/types.js';
import type { TestApi } from '../test-api.js';

/**
 * What the conformance suite asks of a harness. Every backend factory is expected to accept a
 * `retention` option (`memoryTaskBackend({ retention })`, `redisTaskBackend({ retention })`) so the
 * retention tests can set small bounds.
 */
export interface TaskBackendHarnessOptions {
  /** Retention the backend must apply; absent for most tests (the backend's defaults apply). */
  retention?: RetentionSpec;
}

/** One backend under test. */
export interface TaskBackendHarness {
  backend: TaskBackend;
  /**
   * A queue name unique to this test. The suite also uses `${queue}.b` as a second queue; cleanup
   * must remove both.
   */
  queue: string;
  /**
   * A second backend on the same store (another connection, as another process would have), when
   * the backend is shared across processes: cross-process tests (schedule slots, events, pause)
   * then run through it too. A memory backend leaves it out.
   */
  second?: TaskBackend;
  /** Removes everything the test stored and closes the backend(s). */
  cleanup(): Promise<void>;
}

export const BACKOFF: BackoffSpec = {
  type: 'exponential',
  delayMs: 1_000,
  factor: 2,
  maxDelayMs: 60_000,
  jitter: 0.2,
};

export const ERROR: TaskErrorInfo = {
  name: 'TypeError',
  message: 'boom',
  stack: 'TypeError: boom\n    at handler (file.ts:1:1)',
  code: 'E_BOOM',
};

/**
 * The state and helpers the parts of the task backend suite share: the harness of the running test
 * (rebuilt before each test, or by `use` with other options) and builders of tasks and outcomes.
 *
 * @internal
 */
export class BackendSuite {
  readonly api: TestApi;
  readonly #create: (options?: TaskBackendHarnessOptions) => Promise<TaskBackendHarness>;
  #harness: TaskBackendHarness | undefined;
  #seq = 0;

  constructor(
    api: TestApi,
    create: (options?: TaskBackendHarnessOptions) => Promise<TaskBackendHarness>,
  ) {
    this.api = api;
    this.#create = create;
  }

  /** The backend of the running test. */
  get backend(): TaskBackend {
    return this.#current().backend;
  }

  /** The second backend on the same store of the running test, if the harness has one. */
  get second(): TaskBackend | undefined {
    return this.#current().second;
  }

  /** The queue of the running test. */
  get queue(): string {
    return this.#current().queue;
  }

  /** Replaces the harness (the previous one cleaned up) with one built with `options`. */
  readonly use = async (options?: TaskBackendHarnessOptions): Promise<void> => {
    await this.cleanup();
    this.#seq = 0;
    this.#harness = await this.#create(options);
  };

  #current(): TaskBackendHarness {
    const harness = this.#harness;
    if (harness === undefined) throw new Error('no harness: the suite is not running a test');
    return harness;
  }

  async cleanup(): Promise<void> {
    const harness = this.#harness;
    this.#harness = undefined;
    await harness?.cleanup();
  }

  /** A new task of the test queue, ready now unless overridden. */
  readonly task = (overrides: Partial<NewTask> = {}): NewTask => {
    const now = Date.now();
    this.#seq += 1;
    return {
      id: `t${this.#seq}-${randomUUID().slice(0, 8)}`,
      name: 'job',
      queue: this.queue,
      payload: JSON.stringify({ n: this.#seq }),
      priority: 50,
      runAt: now,
      maxRetries: 3,
      backoff: BACKOFF,
      timeoutMs: 0,
      dependsOn: [],
      failOnDependencyFailure: true,
      createdAt: now,
      ...overrides,
    };
  };

  /**
   * Subscribes `listener` to `backend` and resolves once events reach it: a subscription to a
   * remote server takes a moment (seconds on a loaded Redis Cluster), and an event published
   * before it is in place is not heard. A probe queue is paused and resumed until its event
   * arrives; its events are not passed on. Resolves to the subscription's removal.
   */
  readonly subscribed = async (
    backend: TaskBackend,
    listener: (event: TaskBackendEvent) => void,
    timeoutMs = 15_000,
  ): Promise<() => void> => {
    const probe = `${this.queue}.probe`;
    let heard = false;
    const off = backend.subscribe((event) => {
      if (event.queue === probe) heard = true;
      else listener(event);
    });
    const deadline = Date.now() + timeoutMs;
    while (!heard) {
      if (Date.now() > deadline) {
        off();
        throw new Error(`a subscription heard nothing within ${timeoutMs} ms`);
      }
      await this.backend.pause(probe);
      await this.backend.resume(probe);
      for (let waited = 0; !heard && waited < 200; waited += 10) await sleep(10);
    }
    return off;
  };

  readonly claimAll = (max = 100, worker = 'w1', leaseMs = 30_000): Promise<ClaimedTask[]> =>
    this.backend.claim(this.queue, worker, max, leaseMs);

  readonly claimOne = async (worker = 'w1', leaseMs = 30_000): Promise<ClaimedTask> => {
    const [claimed] = await this.backend.claim(this.queue, worker, 1, leaseMs);
    if (claimed === undefined) throw new Error('expected a task to claim');
    return claimed;
  };

  readonly lease = (c: ClaimedTask): Lease => ({ id: c.task.id, token: c.token });

  readonly complete = (c: ClaimedTask, result?: string): AttemptOutcome => ({
    kind: 'completed',
    id: c.task.id,
    token: c.token,
    result,
    finishedAt: Date.now(),
  });

  readonly dead = (c: ClaimedTask, error: TaskErrorInfo = ERROR): AttemptOutcome => ({
    kind: 'dead',
    id: c.task.id,
    token: c.token,
    error,
    finishedAt: Date.now(),
  });

  readonly retry = (c: ClaimedTask, runAt: number): AttemptOutcome => ({
    kind: 'retry',
    id: c.task.id,
    token: c.token,
    error: ERROR,
    runAt,
  });

  /** Claims the task with `id` (it must be the next one) and finishes it with `outcome`. */
  readonly run = async (id: string, outcome: 'completed' | 'dead') => {
    const { expect } = this.api;
    const claimed = await this.claimOne();
    expect(claimed.task.id).toBe(id);
    const [result] = await this.backend.finish(this.queue, [
      outcome === 'completed' ? this.complete(claimed, '"ok"') : this.dead(claimed),
    ]);
    expect(result?.accepted).toBe(true);
    return result!;
  };
}

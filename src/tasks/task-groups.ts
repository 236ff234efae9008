import { describeValue } from '../core/errors.js';
import { TaskLimitError } from './errors.js';
import type { GroupList, QueueLimits, TaskBackend, TaskGroupBackend } from './types.js';
import {
  checkGroup,
  checkPositive,
  checkQueue,
  checkRateLimit,
  type RateLimitOptions,
} from './validate.js';

/** Options of {@link TaskGroups.configureQueue}. */
export interface QueueLimitOptions {
  /** At most `limit` tasks of the queue start per window (`per`), across every process. */
  rateLimit?: RateLimitOptions;
  /**
   * A limit shared with every queue configured with the same `name` (one external API behind
   * several queues): their starts together, per window, across every process.
   */
  sharedLimit?: RateLimitOptions & { name: string };
  /** Defaults of every group of the queue. */
  groups?: {
    /** Tasks of one group held by workers at once, across every process (0: no cap). */
    maxConcurrency?: number;
    /** At most `limit` tasks of each group start per window, counted per group. */
    rateLimit?: RateLimitOptions;
  };
}

/** Options of {@link TaskGroups.configure}. */
export interface GroupOptions {
  /** Its share of turns relative to the other groups (2 takes twice as many). @defaultValue 1 */
  weight?: number;
  /** Overrides the queue's `groups.maxConcurrency` for this group (0: no cap). */
  maxConcurrency?: number;
}

/** What this process's worker pools do when a group is paused or resumed here. */
export interface LocalGroupPauses {
  /** The backend paused the group: give back its tasks claimed and not started. */
  paused(queue: string, group: string): Promise<void>;
  resumed(queue: string, group: string): void;
  /** The queue's limits were stored: its pool reads them now. */
  limitsChanged(queue: string): Promise<void>;
}

/**
 * Groups and rate limits of the task queues, kept in the backend so that every process follows
 * them: `enterprise.tasks.groups`. Tasks join a group with `submitTask(name, payload, { group })`.
 *
 * @example
 * ```ts
 * await enterprise.tasks.groups.configureQueue('emails', {
 *   rateLimit: { limit: 100, per: '1s' },
 *   groups: { maxConcurrency: 2, rateLimit: { limit: 10, per: '1s' } },
 * });
 * await enterprise.tasks.groups.configure('emails', 'tenant-42', { weight: 3 });
 * await enterprise.tasks.groups.pause('emails', 'tenant-7');
 * ```
 */
export class TaskGroups {
  readonly #backend: () => Promise<TaskBackend>;
  readonly #defaultQueue: () => string;
  readonly #local: LocalGroupPauses | undefined;

  /** @internal Built by the task manager. */
  constructor(
    backend: () => Promise<TaskBackend>,
    defaultQueue: () => string,
    local?: LocalGroupPauses,
  ) {
    this.#backend = backend;
    this.#defaultQueue = defaultQueue;
    this.#local = local;
  }

  /**
   * Sets the rate limit of `queue` and the defaults of its groups, replacing earlier ones (an
   * option left out removes that limit).
   *
   * @example
   * ```ts
   * await enterprise.tasks.groups.configureQueue('charges', { rateLimit: { limit: 1000, per: '1s' } });
   * ```
   */
  async configureQueue(queue: string, options: QueueLimitOptions): Promise<void> {
    const name = checkQueue(queue);
    if (options === null || typeof options !== 'object') {
      throw new TaskLimitError(`options=${describeValue(options)} is not an object`, {
        argument: 'options',
      });
    }
    const limits: QueueLimits = {};
    if (options.rateLimit !== undefined) {
      limits.rateLimit = checkRateLimit(options.rateLimit, 'rateLimit');
    }
    if (options.sharedLimit !== undefined) {
      const { name: limitName } = options.sharedLimit;
      if (typeof limitName !== 'string' || !/^[A-Za-z0-9_.:-]{1,100}$/.test(limitName)) {
        throw new TaskLimitError(
          `sharedLimit.name=${describeValue(limitName)} is invalid: expected 1 to 100 characters from [A-Za-z0-9_.:-]`,
          { argument: 'sharedLimit.name', value: limitName },
        );
      }
      limits.sharedLimit = {
        name: limitName,
        ...checkRateLimit(options.sharedLimit, 'sharedLimit'),
      };
    }
    const groups = options.groups ?? {};
    if (groups.maxConcurrency !== undefined) {
      limits.groupMaxConcurrency = checkPositive(
        groups.maxConcurrency,
        'groups.maxConcurrency',
        true,
      );
    }
    if (groups.rateLimit !== undefined) {
      limits.groupRateLimit = checkRateLimit(groups.rateLimit, 'groups.rateLimit');
    }
    await (await this.#groupBackend()).configureQueue(name, limits);
    // This process's pools follow them before this call resolves; the others on the event.
    await this.#local?.limitsChanged(name);
  }

  /**
   * Sets one group's weight and cap (replacing earlier ones).
   *
   * @example
   * ```ts
   * await enterprise.tasks.groups.configure('emails', 'tenant-42', { weight: 2, maxConcurrency: 5 });
   * ```
   */
  async configure(queue: string, group: string, options: GroupOptions): Promise<void> {
    const name = checkQueue(queue);
    checkGroup(group);
    const settings: GroupOptions = {};
    if (options.weight !== undefined)
      settings.weight = checkPositive(options.weight, 'weight', false);
    if (options.maxConcurrency !== undefined) {
      settings.maxConcurrency = checkPositive(options.maxConcurrency, 'maxConcurrency', true);
    }
    await (await this.#groupBackend()).configureGroup(name, group, settings);
  }

  /**
   * Stops every process from starting tasks of `group` in `queue` until {@link resume}. Tasks
   * running when it resolves go on. Tasks a worker claimed ahead of a free slot and did not start
   * go back to the queue at their place, without spending an attempt: this process's before the
   * call resolves, every other process's as soon as it hears of the pause (the backend's
   * `group-paused` event).
   *
   * @example
   * ```ts
   * await enterprise.tasks.groups.pause('emails', 'tenant-7');
   * ```
   */
  async pause(queue: string, group: string): Promise<void> {
    const name = checkQueue(queue);
    checkGroup(group);
    await (await this.#groupBackend()).pauseGroup(name, group);
    await this.#local?.paused(name, group);
  }

  /**
   * Lets every process claim tasks of `group` again.
   *
   * @example
   * ```ts
   * await enterprise.tasks.groups.resume('emails', 'tenant-7');
   * ```
   */
  async resume(queue: string, group: string): Promise<void> {
    const name = checkQueue(queue);
    checkGroup(group);
    await (await this.#groupBackend()).resumeGroup(name, group);
    this.#local?.resumed(name, group);
  }

  /**
   * The groups of `queue` that have work (or are paused or waiting out a limit), deepest first:
   * at most `limit` (default 100) of them, and how many there are.
   *
   * @example
   * ```ts
   * const { total, groups } = await enterprise.tasks.groups.list('emails', { limit: 10 });
   * ```
   */
  async list(queue?: string, options: { limit?: number } = {}): Promise<GroupList> {
    const name = checkQueue(queue ?? this.#defaultQueue());
    const backend = await this.#backend();
    if (backend.groups === undefined)
      return { total: 0, waiting: 0, active: 0, limits: {}, groups: [] };
    return backend.groups(name, Math.max(0, Math.floor(options.limit ?? 100)));
  }

  async #groupBackend(): Promise<TaskGroupBackend> {
    const backend = await this.#backend();
    if (
      backend.configureQueue === undefined ||
      backend.configureGroup === undefined ||
      backend.pauseGroup === undefined ||
      backend.resumeGroup === undefined ||
      backend.groups === undefined
    ) {
      throw new TaskLimitError(
        `the task backend "${backend.name}" has no groups or rate limits (it does not implement TaskGroupBackend)`,
        { backend: backend.name },
      );
    }
    return backend as TaskBackend & TaskGroupBackend;
  }
}

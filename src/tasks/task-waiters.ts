import { type Duration, parseDuration } from '../core/duration.js';
import type { TaskInfo } from './api-types.js';
import { TaskFailedError, TaskWaitTimeoutError } from './errors.js';
import { rebuildError, toInfo } from './task-info.js';
import type { TaskRecord } from './types.js';
import { checkTaskId } from './validate.js';

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

/**
 * @internal The callers of `tasks.waitFor`, by task id. Each looks the task up when an event of
 * the backend names it ({@link TaskWaiters.notify}) and, in case one was missed, every second.
 */
export class TaskWaiters {
  readonly #checks = new Map<string, Set<() => void>>();
  readonly #find: (id: string, queue: string | undefined) => Promise<TaskRecord | undefined>;
  readonly #subscribe: () => Promise<void>;

  /**
   * @param find looks a task up, in `queue` or in every queue
   * @param subscribe makes sure the backend's events reach {@link TaskWaiters.notify}
   */
  constructor(
    find: (id: string, queue: string | undefined) => Promise<TaskRecord | undefined>,
    subscribe: () => Promise<void>,
  ) {
    this.#find = find;
    this.#subscribe = subscribe;
  }

  /** Has the callers waiting for task `id` look it up again. */
  notify(id: string): void {
    const checks = this.#checks.get(id);
    if (checks === undefined) return;
    for (const check of [...checks]) void check();
  }

  /** See `TaskManager.waitFor`. */
  wait(id: string, options: WaitForOptions = {}): Promise<TaskInfo> {
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
        const set = this.#checks.get(id);
        set?.delete(check);
        if (set?.size === 0) this.#checks.delete(id);
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
      let set = this.#checks.get(id);
      if (set === undefined) {
        set = new Set();
        this.#checks.set(id, set);
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
}

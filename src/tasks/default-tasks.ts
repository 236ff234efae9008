import { defaultPart } from '../core/default-instance.js';
import type { SubmitArgs, SubmitTaskFunction, TaskName, TaskSubmission } from './api-types.js';
import type { TaskManager } from './manager.js';
import type { Scheduler } from './scheduler.js';

/** @internal The default instance's task manager, built on first use. */
export function defaultTasks(): TaskManager {
  return defaultPart<TaskManager>('tasks');
}

function facade<T extends object>(resolve: () => T): T {
  return new Proxy({} as T, {
    get(_target, property) {
      const instance = resolve();
      const value = Reflect.get(instance, property, instance);
      return typeof value === 'function' ? value.bind(instance) : value;
    },
    has(_target, property) {
      return Reflect.has(resolve(), property);
    },
    getPrototypeOf() {
      return Reflect.getPrototypeOf(resolve());
    },
  });
}

/**
 * The default instance's task manager (`getEnterprise().tasks`), looked up at each use so it
 * follows `configure()`.
 *
 * @example
 * ```ts
 * import { tasks } from '@revcopy/enterprise/tasks';
 * const info = await tasks.waitFor(id, { timeout: '1m' });
 * const { queues, workers } = await tasks.stats();
 * ```
 */
export const tasks: TaskManager = facade(() => defaultTasks());

/**
 * The default instance's scheduler (`getEnterprise().tasks.scheduler`).
 *
 * @example
 * ```ts
 * import { scheduler } from '@revcopy/enterprise/tasks';
 * scheduler.schedulePeriodic('0 2 * * *', 'database_optimization', 'optimize_database');
 * ```
 */
export const scheduler: Scheduler = facade(() => defaultTasks().scheduler);

/**
 * Submits a task to the default instance; resolves its id. Names and payloads are checked at
 * compile time once `TaskRegistry` is augmented.
 *
 * @example
 * ```ts
 * const id = await submitTask('process_analytics', { userId: 123 }, { priority: TaskPriority.HIGH });
 * ```
 */
export const submitTask: SubmitTaskFunction = <N extends TaskName>(
  name: N,
  ...args: SubmitArgs<N>
): Promise<string> => {
  try {
    return defaultTasks().submit(name, ...args);
  } catch (error) {
    return Promise.reject(error);
  }
};

/**
 * Submits many tasks to the default instance in one call to the backend; resolves their ids.
 *
 * @example
 * ```ts
 * await submitTasks(users.map((u) => ({ name: 'send_digest', payload: { userId: u.id } })));
 * ```
 */
export function submitTasks(submissions: readonly TaskSubmission[]): Promise<string[]> {
  try {
    return defaultTasks().submitMany(submissions);
  } catch (error) {
    return Promise.reject(error);
  }
}

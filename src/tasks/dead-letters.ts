import { InvalidArgumentError } from '../core/errors.js';
import type { TaskInfo } from './api-types.js';
import { toInfo } from './task-info.js';
import type { TaskQueues } from './task-queues.js';
import type { TaskLookupOptions } from './task-waiters.js';
import type { TaskBackend, TaskRecord } from './types.js';
import { checkQueue, checkTaskId } from './validate.js';

/** Dead letter queue operations. */
export interface DeadLetters {
  /** Dead tasks, most recent first, of one queue or of every queue. */
  list(options?: TaskLookupOptions & { offset?: number; limit?: number }): Promise<TaskInfo[]>;
  /** Sends a dead task back to its queue with its attempts reset; resolves whether it was dead. */
  retry(id: string, options?: TaskLookupOptions): Promise<boolean>;
  /** Removes the dead tasks of one queue, or of every queue; resolves how many. */
  purge(options?: TaskLookupOptions): Promise<number>;
}

/** @internal The dead letter operations of a task manager, on its backend and queues. */
export function deadLetters(backend: () => Promise<TaskBackend>, queues: TaskQueues): DeadLetters {
  return {
    list: (options) => listDead(backend, queues, options),
    retry: async (id, options) => {
      checkTaskId(id);
      const store = await backend();
      for (const queue of await queues.lookIn(options?.queue)) {
        if (await store.retryDead(queue, id)) return true;
      }
      return false;
    },
    purge: async (options) => {
      const store = await backend();
      const names =
        options?.queue === undefined
          ? await queues.all()
          : [checkQueue(options.queue, 'options.queue')];
      let purged = 0;
      for (const queue of names) purged += await store.purgeDead(queue);
      return purged;
    },
  };
}

/** Dead tasks, most recent first; see {@link DeadLetters.list}. */
async function listDead(
  backend: () => Promise<TaskBackend>,
  queues: TaskQueues,
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
  const store = await backend();
  if (options.queue !== undefined) {
    return (await store.listDead(checkQueue(options.queue, 'options.queue'), offset, limit)).map(
      toInfo,
    );
  }
  const all: TaskRecord[] = [];
  for (const queue of await queues.all())
    all.push(...(await store.listDead(queue, 0, offset + limit)));
  all.sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0));
  return all.slice(offset, offset + limit).map(toInfo);
}

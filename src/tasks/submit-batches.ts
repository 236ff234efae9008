import { TaskDependencyError, TaskSubmitIncompleteError } from './errors.js';
import type { AddOutcome, NewTask, TaskBackend } from './types.js';

/**
 * Most tasks one `backend.add` call stores. A larger `submitMany` goes in batches of at most this
 * many, so that one script (Redis) or one synchronous step (memory) stays short whatever the call.
 */
export const ADD_BATCH_SIZE = 1_000;

/** External dependencies looked up at once before a call in batches is stored. */
const LOOKUPS_AT_ONCE = 32;

/**
 * @internal Stores `tasks` with `backend.add`: in one call when they are at most
 * {@link ADD_BATCH_SIZE}, else in batches of at most that many, in dependency order (a task after
 * the tasks of the call it depends on), after checking that every dependency outside the call
 * exists. `stored` is called after each batch with its tasks and their outcomes.
 *
 * Each batch is atomic; a call in several batches is not: when a batch fails after others were
 * stored, this rejects with a {@link TaskSubmitIncompleteError} listing what was stored. A failure
 * of the first batch rejects with the backend's own error, nothing stored.
 */
export async function addInBatches(
  backend: TaskBackend,
  tasks: readonly NewTask[],
  stored: (batch: readonly NewTask[], outcomes: readonly AddOutcome[]) => void,
): Promise<void> {
  if (tasks.length <= ADD_BATCH_SIZE) {
    stored(tasks, await backend.add(tasks));
    return;
  }
  const ordered = dependencyOrder(tasks);
  await checkExternalDependencies(backend, tasks);
  const storedIds: string[] = [];
  for (let start = 0; start < ordered.length; start += ADD_BATCH_SIZE) {
    const batch = ordered.slice(start, start + ADD_BATCH_SIZE);
    let outcomes: AddOutcome[];
    try {
      outcomes = await backend.add(batch);
    } catch (error) {
      if (storedIds.length === 0) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new TaskSubmitIncompleteError(
        `${storedIds.length} of the ${tasks.length} tasks of the call were stored before a batch failed (${reason}); the call is stored in batches of ${ADD_BATCH_SIZE}, each atomic, and submitting the same tasks again with their ids creates only the missing ones`,
        { stored: storedIds.length, total: tasks.length, storedIds },
        error,
      );
    }
    for (const task of batch) storedIds.push(task.id);
    stored(batch, outcomes);
  }
}

/** Rejects a cycle among the tasks of one call, and cross-queue dependencies within it. */
export function checkBatchDependencies(tasks: readonly NewTask[]): void {
  const byId = firstById(tasks);
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (task: NewTask, path: string[]) => {
    const mark = state.get(task.id);
    if (mark === 'done') return;
    if (mark === 'visiting') {
      const cycle = [...path.slice(path.indexOf(task.id)), task.id];
      throw new TaskDependencyError(
        `the tasks depend on each other in a cycle: ${cycle.join(' -> ')}`,
        {
          cycle,
        },
      );
    }
    state.set(task.id, 'visiting');
    for (const dep of task.dependsOn) {
      const dependency = byId.get(dep);
      if (dependency === undefined) continue;
      if (dependency.queue !== task.queue) {
        throw new TaskDependencyError(
          `task ${task.id} (queue ${task.queue}) depends on ${dep} of queue ${dependency.queue}: dependencies must share a queue`,
          { id: task.id, dependency: dep },
        );
      }
      visit(dependency, [...path, task.id]);
    }
    state.set(task.id, 'done');
  };
  for (const task of tasks) visit(task, []);
}

/**
 * The tasks with every task after the tasks of the call it depends on, otherwise in their order.
 * Expects a call without cycles ({@link checkBatchDependencies}); iterative, as a chain of
 * dependencies may be longer than the call stack is deep.
 */
function dependencyOrder(tasks: readonly NewTask[]): NewTask[] {
  const byId = firstById(tasks);
  const placed = new Set<NewTask>();
  const ordered: NewTask[] = [];
  for (const root of tasks) {
    if (placed.has(root)) continue;
    const stack: { task: NewTask; next: number }[] = [{ task: root, next: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const deps = top.task.dependsOn;
      if (top.next < deps.length) {
        const dependency = byId.get(deps[top.next++]!);
        if (dependency !== undefined && !placed.has(dependency)) {
          placed.add(dependency);
          stack.push({ task: dependency, next: 0 });
        }
        continue;
      }
      stack.pop();
      placed.add(top.task);
      ordered.push(top.task);
    }
  }
  return ordered;
}

/** Rejects, before anything is stored, a dependency that is neither in the call nor stored. */
async function checkExternalDependencies(
  backend: TaskBackend,
  tasks: readonly NewTask[],
): Promise<void> {
  const inCall = new Set(tasks.map((task) => task.id));
  const lookups = new Map<string, { task: NewTask; dependency: string }>();
  for (const task of tasks) {
    for (const dependency of task.dependsOn) {
      if (inCall.has(dependency)) continue;
      const key = `${task.queue}\u0000${dependency}`;
      if (!lookups.has(key)) lookups.set(key, { task, dependency });
    }
  }
  const pending = [...lookups.values()];
  for (let start = 0; start < pending.length; start += LOOKUPS_AT_ONCE) {
    const chunk = pending.slice(start, start + LOOKUPS_AT_ONCE);
    const found = await Promise.all(
      chunk.map(({ task, dependency }) => backend.get(task.queue, dependency)),
    );
    const missing = found.indexOf(undefined);
    if (missing !== -1) {
      const { task, dependency } = chunk[missing]!;
      throw new TaskDependencyError(
        `task ${task.id} depends on ${dependency}, which is no task of queue ${task.queue}`,
        { id: task.id, dependency, queue: task.queue },
      );
    }
  }
}

function firstById(tasks: readonly NewTask[]): Map<string, NewTask> {
  const byId = new Map<string, NewTask>();
  for (const task of tasks) if (!byId.has(task.id)) byId.set(task.id, task);
  return byId;
}

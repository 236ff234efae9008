import { describeValue } from '../../../core/errors.js';
import type { RedisClient } from '../../../redis/client.js';
import { runScript } from '../../../redis/scripts.js';
import { TaskDependencyError } from '../../errors.js';
import type { AddOutcome, NewTask, TaskState } from '../../types.js';
import type { BackendContext } from './context.js';
import { metaJson } from './records.js';
import { ADD } from './scripts.js';

/** `add`: one ADD script per queue of the call. */
export async function addTasks(
  ctx: BackendContext,
  tasks: readonly NewTask[],
): Promise<AddOutcome[]> {
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
    for (const [queue, indexes] of byQueue) await addToQueue(ctx, tasks, queue, indexes, true);
  }
  for (const [queue, indexes] of byQueue) {
    const reply = await addToQueue(ctx, tasks, queue, indexes, false);
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
async function addToQueue(
  ctx: BackendContext,
  tasks: readonly NewTask[],
  queue: string,
  indexes: readonly number[],
  dryRun: boolean,
): Promise<string[]> {
  const k = ctx.keys.queue(queue);
  const keys = [k.seq, k.ready, k.delayed, k.blocked, k.dead, k.marker, ctx.keys.memo(k)];
  const args: (string | number)[] = [
    k.base,
    ctx.channel,
    queue,
    indexes.length,
    dryRun ? 1 : 0,
    ctx.memoMs,
    ctx.retention.dead.count,
    ctx.retention.dead.ageMs,
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
      t.group ?? '',
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
  const reply = (await ctx.conn
    .run('add', queue, (client) =>
      Promise.all([runScript(client, ADD, keys, args), record(ctx, client, queue)]),
    )
    .then(([result]) => result)) as string[];
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

/** Records the queue in `<prefix>:queues` (other slot than the queue's keys: not in a script). */
async function record(ctx: BackendContext, client: RedisClient, queue: string): Promise<void> {
  if (ctx.recorded.has(queue)) return;
  await client.sadd(`${ctx.prefix}:queues`, queue);
  ctx.recorded.add(queue);
}

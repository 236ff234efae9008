import { hashTag } from '../../../redis/keys.js';
import { runScript } from '../../../redis/scripts.js';
import { TaskDependencyError } from '../../errors.js';
import type { QueueCounts, TaskRecord } from '../../types.js';
import type { BackendContext } from './context.js';
import { FIELD, recordFromHash } from './records.js';
import { CANCEL, COUNTS, ONCE, PURGE, RETRY_DEAD } from './scripts.js';

const PURGE_BATCH = 500;

/** `get`: the task's hash, payload and pending dependencies in one pipeline. */
export async function getTask(
  ctx: BackendContext,
  queue: string,
  id: string,
): Promise<TaskRecord | undefined> {
  const k = ctx.keys.queue(queue);
  const [hash, payload, pending] = await ctx.conn.run('get', queue, async (client) => {
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

/** `cancel`: the CANCEL script. */
export async function cancelTask(ctx: BackendContext, queue: string, id: string): Promise<boolean> {
  const k = ctx.keys.queue(queue);
  const r = ctx.retention;
  const keys = [
    k.base + 't:' + id,
    k.base + 'pending:' + id,
    k.ready,
    k.delayed,
    k.blocked,
    k.cancelled,
    k.dead,
    k.marker,
    ctx.keys.memo(k),
  ];
  const args = [
    k.base,
    ctx.channel,
    queue,
    id,
    r.completed.count,
    r.completed.ageMs,
    r.dead.count,
    r.dead.ageMs,
    ctx.memoMs,
  ];
  const done = await ctx.conn.run('cancel', queue, (client) =>
    runScript(client, CANCEL, keys, args),
  );
  return Number(done) === 1;
}

/** `counts`: the COUNTS script. */
export async function queueCounts(ctx: BackendContext, queue: string): Promise<QueueCounts> {
  const k = ctx.keys.queue(queue);
  const reply = (await ctx.conn.run('counts', queue, (client) =>
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

/** `listDead`: newest first, hashes and payloads in one pipeline. */
export async function listDead(
  ctx: BackendContext,
  queue: string,
  offset: number,
  limit: number,
): Promise<TaskRecord[]> {
  if (!(limit >= 1)) return [];
  const k = ctx.keys.queue(queue);
  const from = Math.max(0, Math.floor(offset));
  return ctx.conn.run('listDead', queue, async (client) => {
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

/** `retryDead`: the RETRY_DEAD script; throws when a dependency refuses it. */
export async function retryDead(ctx: BackendContext, queue: string, id: string): Promise<boolean> {
  const k = ctx.keys.queue(queue);
  const keys = [
    k.base + 't:' + id,
    k.dead,
    k.ready,
    k.marker,
    k.blocked,
    k.base + 'pending:' + id,
    ctx.keys.memo(k),
  ];
  const args = [id, k.base, ctx.memoMs];
  const [done, dependency, state] = (await ctx.conn.run('retryDead', queue, (client) =>
    runScript(client, RETRY_DEAD, keys, args),
  )) as [number, string?, string?];
  if (Number(done) === 2) throw retryRefused(queue, id, dependency!, state!);
  return Number(done) === 1;
}

/** `purgeDead`: PURGE in batches. */
export async function purgeDead(ctx: BackendContext, queue: string): Promise<number> {
  const k = ctx.keys.queue(queue);
  let purged = 0;
  // Batches keep each script short; a dead set refilled faster than this drains is not ours to chase.
  for (let round = 0; round < 10_000; round++) {
    const count = Number(
      await ctx.conn.run('purgeDead', queue, (client) =>
        runScript(client, PURGE, [k.dead], [k.base, PURGE_BATCH]),
      ),
    );
    purged += count;
    if (count < PURGE_BATCH) break;
  }
  return purged;
}

/** `pause`: sets the flag and publishes the event together. */
export async function pauseQueue(ctx: BackendContext, queue: string): Promise<void> {
  const k = ctx.keys.queue(queue);
  // The event goes out in the same MULTI as the flag, so no process hears it before claims stop.
  const message = JSON.stringify({ q: queue, e: [['paused', '', '']] });
  await ctx.conn.run('pause', queue, async (client) => {
    const results =
      (await client.multi().set(k.paused, '1').publish(ctx.channel, message).exec()) ?? [];
    for (const [error] of results) if (error) throw error;
  });
}

/** `resume`: clears the flag, wakes waiting workers and publishes the event together. */
export async function resumeQueue(ctx: BackendContext, queue: string): Promise<void> {
  const k = ctx.keys.queue(queue);
  const message = JSON.stringify({ q: queue, e: [['resumed', '', '']] });
  await ctx.conn.run('resume', queue, async (client) => {
    // The marker wakes the workers that went back to waiting while the queue was paused.
    const results =
      (await client
        .multi()
        .del(k.paused)
        .zadd(k.marker, 0, 'r')
        .publish(ctx.channel, message)
        .exec()) ?? [];
    for (const [error] of results) if (error) throw error;
  });
}

/** `claimScheduleSlot`: the ONCE script on the slot's marker. */
export async function claimScheduleSlot(
  ctx: BackendContext,
  name: string,
  slot: number,
  ttlMs: number,
): Promise<boolean> {
  const key = `${ctx.prefix}:schedule:${hashTag(name)}:${slot}`;
  const px = Math.max(1, Math.ceil(ttlMs));
  // The marker holds this call's id: a re-sent call recognises its own marker.
  const owner = ctx.keys.rid();
  const reply = await ctx.conn.run('claimScheduleSlot', undefined, (client) =>
    runScript(client, ONCE, [key], [owner, px]),
  );
  return Number(reply) === 1;
}

/** `queues`: the names recorded in `<prefix>:queues`, sorted. */
export async function listQueues(ctx: BackendContext): Promise<string[]> {
  const names = await ctx.conn.run('queues', undefined, (client) =>
    client.smembers(`${ctx.prefix}:queues`),
  );
  return names.sort();
}

function retryRefused(queue: string, id: string, dependency: string, state: string): Error {
  return new TaskDependencyError(
    `task ${id} cannot be retried while its dependency ${dependency} is ${state}: retry ${dependency} first`,
    { queue, id, dependency, state },
  );
}

import { runScript } from '../../../redis/scripts.js';
import type { GroupInfo, GroupList, GroupSettings, QueueLimits } from '../../types.js';
import type { BackendContext } from './context.js';
import { GROUP_LIST, GROUP_SET } from './scripts.js';

/** Runs GROUP_SET on `queue` with `args` after the prefix. */
async function groupSet(
  ctx: BackendContext,
  queue: string,
  args: (string | number)[],
): Promise<void> {
  const k = ctx.keys.queue(queue);
  await ctx.conn.run('groups', queue, (client) =>
    runScript(client, GROUP_SET, [k.marker], [k.base, ...args]),
  );
}

/** `configureQueue`: the queue's limits and group defaults, then the `limits` event. */
export async function configureQueue(
  ctx: BackendContext,
  queue: string,
  limits: QueueLimits,
): Promise<void> {
  await groupSet(ctx, queue, [
    'queue',
    '',
    limits.rateLimit?.limit ?? 0,
    limits.rateLimit?.perMs ?? 0,
    limits.groupMaxConcurrency ?? 0,
    limits.groupRateLimit?.limit ?? 0,
    limits.groupRateLimit?.perMs ?? 0,
    limits.sharedLimit?.name ?? '',
    limits.sharedLimit?.limit ?? 0,
    limits.sharedLimit?.perMs ?? 0,
  ]);
  const message = JSON.stringify({ q: queue, e: [['limits', '', '']] });
  await ctx.conn.run('groups', queue, (client) => client.publish(ctx.channel, message));
}

/** `configureGroup`: one group's weight and cap (-1: the queue's default). */
export function configureGroup(
  ctx: BackendContext,
  queue: string,
  group: string,
  settings: GroupSettings,
): Promise<void> {
  return groupSet(ctx, queue, [
    'group',
    group,
    settings.weight ?? 1,
    settings.maxConcurrency ?? -1,
  ]);
}

/**
 * `pauseGroup` / `resumeGroup`: the change, then its event (after it, so that no process hears of
 * a pause before claims stopped).
 */
export async function pauseGroup(
  ctx: BackendContext,
  queue: string,
  group: string,
  paused: boolean,
): Promise<void> {
  await groupSet(ctx, queue, [paused ? 'pause' : 'resume', group]);
  const type = paused ? 'group-paused' : 'group-resumed';
  const message = JSON.stringify({ q: queue, e: [[type, '', '', group]] });
  await ctx.conn.run('groups', queue, (client) => client.publish(ctx.channel, message));
}

/** `groups`: the deepest groups of `queue`. */
export async function listGroups(
  ctx: BackendContext,
  queue: string,
  limit: number,
): Promise<GroupList> {
  const k = ctx.keys.queue(queue);
  const reply = (await ctx.conn.run('groups', queue, (client) =>
    runScript(client, GROUP_LIST, [k.marker], [k.base, Math.max(0, Math.floor(limit))]),
  )) as (string | number)[];
  const groups: GroupInfo[] = [];
  for (let at = 11; at + 6 < reply.length; at += 7) {
    const info: GroupInfo = {
      group: String(reply[at]),
      waiting: Number(reply[at + 1]),
      active: Number(reply[at + 2]),
      paused: Number(reply[at + 3]) === 1,
      weight: Number(reply[at + 5]),
      maxConcurrency: Number(reply[at + 6]),
    };
    const until = Number(reply[at + 4]);
    if (until > 0) info.limitedUntil = until;
    groups.push(info);
  }
  const n = (i: number) => (reply[i] === '' || reply[i] === undefined ? 0 : Number(reply[i]));
  return {
    total: n(0),
    waiting: n(1),
    active: n(2),
    limits: parseLimits(reply.slice(3, 11)),
    groups,
  };
}

/** The stored limits (queue limit, window, group cap, group limit, window, shared name, limit, window). */
function parseLimits(fields: readonly (string | number | null | undefined)[]): QueueLimits {
  const n = (i: number) =>
    fields[i] === '' || fields[i] === undefined || fields[i] === null ? 0 : Number(fields[i]);
  const limits: QueueLimits = {};
  if (n(0) > 0) limits.rateLimit = { limit: n(0), perMs: n(1) };
  if (n(2) > 0) limits.groupMaxConcurrency = n(2);
  if (n(3) > 0) limits.groupRateLimit = { limit: n(3), perMs: n(4) };
  if (n(6) > 0) limits.sharedLimit = { name: String(fields[5]), limit: n(6), perMs: n(7) };
  return limits;
}

/** `pausedGroups`: one SMEMBERS of the set GROUP_SET keeps. */
export async function pausedGroups(ctx: BackendContext, queue: string): Promise<string[]> {
  const k = ctx.keys.queue(queue);
  const names = await ctx.conn.run('groups', queue, (client) =>
    client.smembers(`${k.base}gpaused`),
  );
  return names.sort();
}

/** `queueLimits`: the queue's stored limits, one HMGET (no script, however many groups). */
export async function queueLimits(ctx: BackendContext, queue: string): Promise<QueueLimits> {
  const k = ctx.keys.queue(queue);
  const fields = await ctx.conn.run('groups', queue, (client) =>
    client.hmget(`${k.base}cfg`, 'qlim', 'qper', 'gmax', 'glim', 'gper', 'sname', 'slim', 'sper'),
  );
  return parseLimits(fields);
}

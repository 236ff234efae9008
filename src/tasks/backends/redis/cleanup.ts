import { masters } from '../../../redis/client.js';
import { globEscape } from '../../../redis/keys.js';
import { runScript } from '../../../redis/scripts.js';
import type { BackendContext } from './context.js';
import { DANGLING, REPAIR, TRIM, UNUSED } from './scripts/cleanup.js';

/** Options of {@link RedisTaskBackend.cleanup}. */
export interface TaskStoreCleanupOptions {
  /** Queues in use by this process's handlers: never removed as unused. */
  knownQueues?: readonly string[];
  /** An idle queue (see docs/maintenance.md) is removed after this long. @defaultValue 7 days */
  unusedQueueAfterMs?: number;
  /** Keys per SCAN and per repair call. @defaultValue 500 */
  batchSize?: number;
  /** Count what would be removed, remove nothing. */
  dryRun?: boolean;
  /** Stops between two batches once aborted. */
  signal?: AbortSignal;
}

/** What {@link RedisTaskBackend.cleanup} found and did. */
export interface TaskStoreCleanupReport {
  examined: { keys: number; queues: number };
  /** Removed (or, in a dry run, found) per kind. */
  done: {
    orphanPayloads: number;
    orphanPendingSets: number;
    orphanDependentSets: number;
    unindexedRecords: number;
    uniqueKeysWithoutExpiry: number;
    memosWithoutExpiry: number;
    staleScheduleMarkers: number;
    danglingIndexEntries: number;
    trimmedPastRetention: number;
    unusedQueues: number;
    unusedQueueRecords: number;
    queuesRecorded: number;
  };
  details: { unusedQueues: string[]; queues: string[] };
}

const KINDS = ['p', 'pending', 'dependents', 't', 'u', 'req'] as const;
const REPAIR_FIELDS = [
  'orphanPayloads',
  'orphanPendingSets',
  'orphanDependentSets',
  'unindexedRecords',
  'uniqueKeysWithoutExpiry',
  'memosWithoutExpiry',
] as const;

/** The queue name inside a key's hash tag (the inverse of `redisSegment`). */
function unescapeSegment(segment: string): string {
  return segment
    .replace(/%u([0-9A-F]{4})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
    .replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

function aborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason;
}

/**
 * @internal Repairs what finish-time retention cannot: SCANs every key of the prefix in batches
 * (never KEYS), each questionable key judged and removed inside a script of its queue (so a
 * worker running meanwhile never sees a half-done state), then per queue: dangling index entries,
 * the retention bounds applied again, and queues no longer used removed.
 */
export async function cleanupBackend(
  ctx: BackendContext,
  options: TaskStoreCleanupOptions = {},
): Promise<TaskStoreCleanupReport> {
  const batch = options.batchSize ?? 500;
  const dry = options.dryRun === true ? '1' : '0';
  const report: TaskStoreCleanupReport = {
    examined: { keys: 0, queues: 0 },
    done: {
      orphanPayloads: 0,
      orphanPendingSets: 0,
      orphanDependentSets: 0,
      unindexedRecords: 0,
      uniqueKeysWithoutExpiry: 0,
      memosWithoutExpiry: 0,
      staleScheduleMarkers: 0,
      danglingIndexEntries: 0,
      trimmedPastRetention: 0,
      unusedQueues: 0,
      unusedQueueRecords: 0,
      queuesRecorded: 0,
    },
    details: { unusedQueues: [], queues: [] },
  };
  const queuePrefix = `${ctx.prefix}:{`;
  const limitPrefix = `${ctx.prefix}:{limit:`;
  const schedulePrefix = `${ctx.prefix}:schedule:`;
  const discovered = new Set<string>();
  const client = ctx.conn.client;

  for (const node of masters(client)) {
    let cursor = '0';
    do {
      aborted(options.signal);
      const [next, keys] = await ctx.conn.run('cleanup', undefined, () =>
        node.scan(cursor, 'MATCH', `${globEscape(ctx.prefix)}:*`, 'COUNT', batch),
      );
      cursor = next;
      report.examined.keys += keys.length;
      const byQueue = new Map<string, string[]>();
      const markers: string[] = [];
      for (const key of keys) {
        if (key.startsWith(schedulePrefix)) {
          markers.push(key);
          continue;
        }
        // Counters of limits shared by several queues (`{limit:<name>}`) are not a queue's keys.
        if (!key.startsWith(queuePrefix) || key.startsWith(limitPrefix)) continue;
        const close = key.indexOf('}:', queuePrefix.length);
        if (close < 0) continue;
        const queue = unescapeSegment(key.slice(queuePrefix.length, close));
        discovered.add(queue);
        const rest = key.slice(close + 2);
        const colon = rest.indexOf(':');
        const kind = colon < 0 ? '' : rest.slice(0, colon);
        if (!(KINDS as readonly string[]).includes(kind)) continue;
        const list = byQueue.get(queue) ?? [];
        list.push(kind, rest.slice(colon + 1));
        byQueue.set(queue, list);
      }
      for (const [queue, args] of byQueue) {
        const k = ctx.keys.queue(queue);
        const counts = (await ctx.conn.run('cleanup', queue, (c) =>
          runScript(c, REPAIR, [k.completed], [k.base, dry, ...args]),
        )) as number[];
        REPAIR_FIELDS.forEach((field, i) => {
          report.done[field] += Number(counts[i] ?? 0);
        });
      }
      // Schedule markers are always written with an expiry: one without it would stay forever.
      if (markers.length > 0) {
        const ttls = await ctx.conn.run('cleanup', undefined, () =>
          Promise.all(markers.map((key) => node.pttl(key))),
        );
        const stale = markers.filter((_, i) => ttls[i] === -1);
        report.done.staleScheduleMarkers += stale.length;
        if (dry === '0') {
          for (const key of stale) await ctx.conn.run('cleanup', undefined, () => node.del(key));
        }
      }
    } while (cursor !== '0');
  }

  const recorded = new Set(
    await ctx.conn.run('cleanup', undefined, (c) => c.smembers(`${ctx.prefix}:queues`)),
  );
  const queues = [...new Set([...recorded, ...discovered])].sort();
  report.examined.queues = queues.length;
  report.details.queues = queues;
  const known = new Set(options.knownQueues ?? []);
  const retention = ctx.retention;
  for (const queue of queues) {
    aborted(options.signal);
    const k = ctx.keys.queue(queue);
    report.done.danglingIndexEntries += await danglingEntries(
      ctx,
      queue,
      batch,
      dry,
      options.signal,
    );
    if (!known.has(queue) && (await removeIfUnused(ctx, queue, dry, batch, options, report))) {
      continue;
    }
    for (;;) {
      const trimmed = (await ctx.conn.run('cleanup', queue, (c) =>
        runScript(
          c,
          TRIM,
          [k.completed, k.dead, k.cancelled],
          [
            k.base,
            dry,
            retention.completed.count,
            retention.completed.ageMs,
            retention.dead.count,
            retention.dead.ageMs,
            batch,
          ],
        ),
      )) as number[];
      const n = trimmed.reduce((sum, x) => sum + Number(x), 0);
      report.done.trimmedPastRetention += n;
      if (n === 0 || dry === '1') break;
      aborted(options.signal);
    }
    if (!recorded.has(queue) && discovered.has(queue)) {
      // A queue in use that `queues()` does not list (a process removed it, another kept using it).
      await record(ctx, queue, dry, report);
    }
  }
  return report;
}

/** Removes `queue` when it is unused (see UNUSED); resolves whether it was (or, dry, would be). */
async function removeIfUnused(
  ctx: BackendContext,
  queue: string,
  dry: string,
  batch: number,
  options: TaskStoreCleanupOptions,
  report: TaskStoreCleanupReport,
): Promise<boolean> {
  const k = ctx.keys.queue(queue);
  let state = 0;
  let removedRecords = 0;
  while (state === 0) {
    const [next, removed] = (await ctx.conn.run('cleanup', queue, (c) =>
      runScript(
        c,
        UNUSED,
        [
          k.ready,
          k.delayed,
          k.active,
          k.blocked,
          k.completed,
          k.dead,
          k.cancelled,
          k.workersExp,
          k.paused,
          k.seq,
          k.marker,
          k.workers,
        ],
        [k.base, dry, options.unusedQueueAfterMs ?? 7 * 86_400_000, batch],
      ),
    )) as [number, number];
    removedRecords += Number(removed);
    state = Number(next);
    if (dry === '1') break;
    aborted(options.signal);
  }
  if (state === -1) return false;
  report.done.unusedQueueRecords += removedRecords;
  report.done.unusedQueues++;
  report.details.unusedQueues.push(queue);
  if (dry === '0') {
    await ctx.conn.run('cleanup', queue, (c) => c.srem(`${ctx.prefix}:queues`, queue));
    ctx.recorded.delete(queue);
  }
  return true;
}

async function record(
  ctx: BackendContext,
  queue: string,
  dry: string,
  report: TaskStoreCleanupReport,
): Promise<void> {
  report.done.queuesRecorded++;
  if (dry === '0')
    await ctx.conn.run('cleanup', queue, (c) => c.sadd(`${ctx.prefix}:queues`, queue));
}

/** Index entries (finished zsets, the blocked set) whose task is gone, in ZSCAN/SSCAN batches. */
async function danglingEntries(
  ctx: BackendContext,
  queue: string,
  batch: number,
  dry: string,
  signal: AbortSignal | undefined,
): Promise<number> {
  const k = ctx.keys.queue(queue);
  let total = 0;
  for (const [key, kind] of [
    [k.completed, 'z'],
    [k.dead, 'z'],
    [k.cancelled, 'z'],
    [k.blocked, 's'],
  ] as const) {
    let cursor = '0';
    do {
      aborted(signal);
      const [next, found] = await ctx.conn.run('cleanup', queue, (c) =>
        kind === 'z' ? c.zscan(key, cursor, 'COUNT', batch) : c.sscan(key, cursor, 'COUNT', batch),
      );
      cursor = next;
      const ids = kind === 'z' ? found.filter((_, i) => i % 2 === 0) : found;
      if (ids.length === 0) continue;
      total += Number(
        await ctx.conn.run('cleanup', queue, (c) =>
          runScript(c, DANGLING, [key], [k.base, dry, kind, ...ids]),
        ),
      );
    } while (cursor !== '0');
  }
  return total;
}

import { runScript } from '../../../redis/scripts.js';
import type { AddOutcome, TaskRecord } from '../../types.js';
import type { BackendContext } from './context.js';
import { errorJson, metaJson } from './records.js';
import { RESTORE_DEAD } from './scripts.js';

// Keeps each script call short: a large backup is restored in several atomic steps.
const BATCH = 200;

/** `restoreDead`: RESTORE_DEAD in batches; ids stored already are left alone. */
export async function restoreDead(
  ctx: BackendContext,
  queue: string,
  records: readonly TaskRecord[],
): Promise<AddOutcome[]> {
  const k = ctx.keys.queue(queue);
  const outcomes: AddOutcome[] = [];
  if (records.length === 0) return outcomes;
  await ctx.conn.run('restoreDead', queue, async (client) => {
    if (!ctx.recorded.has(queue)) {
      await client.sadd(`${ctx.prefix}:queues`, queue);
      ctx.recorded.add(queue);
    }
  });
  for (let from = 0; from < records.length; from += BATCH) {
    const batch = records.slice(from, from + BATCH);
    const keys = [k.seq, k.dead];
    const args: (string | number)[] = [];
    for (const t of batch) {
      keys.push(k.base + 't:' + t.id, k.base + 'p:' + t.id);
      args.push(
        t.id,
        t.name,
        metaJson(t, t.dependsOn),
        t.priority,
        t.runAt,
        t.failOnDependencyFailure ? 1 : 0,
        t.group ?? '',
        t.attempts,
        t.startedAt ?? '',
        t.finishedAt ?? t.createdAt,
        t.error === undefined ? '' : errorJson(t.error),
        t.payload,
      );
    }
    const reply = (await ctx.conn.run('restoreDead', queue, (client) =>
      runScript(client, RESTORE_DEAD, keys, args),
    )) as number[];
    batch.forEach((t, i) => {
      outcomes.push({ id: t.id, created: Number(reply[i]) === 1, state: 'dead' });
    });
  }
  return outcomes;
}

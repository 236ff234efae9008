// The schedule records of a Redis task backend: one hash, `<prefix>:schedules`, field per
// schedule name, value the record as JSON. One key, so it works the same on Redis Cluster.
import type { StoredSchedule } from '../../types.js';
import type { BackendContext } from './context.js';

function key(ctx: BackendContext): string {
  return `${ctx.prefix}:schedules`;
}

/** A stored value that does not read back as a record (written by hand?) is skipped, not fatal. */
function parse(name: string, json: string): StoredSchedule | undefined {
  try {
    const record = JSON.parse(json) as StoredSchedule;
    if (record === null || typeof record !== 'object' || record.name !== name) return undefined;
    return record;
  } catch {
    return undefined;
  }
}

/** `schedules`: every record of the hash. */
export async function listSchedules(ctx: BackendContext): Promise<StoredSchedule[]> {
  const fields = await ctx.conn.run('schedules', undefined, (client) => client.hgetall(key(ctx)));
  const records: StoredSchedule[] = [];
  for (const [name, json] of Object.entries(fields)) {
    const record = parse(name, json);
    if (record !== undefined) records.push(record);
  }
  return records;
}

/** `saveSchedule`: replaces the record's field. */
export async function saveSchedule(ctx: BackendContext, record: StoredSchedule): Promise<void> {
  const json = JSON.stringify(record);
  await ctx.conn.run('saveSchedule', undefined, (client) =>
    client.hset(key(ctx), record.name, json),
  );
}

/** `deleteSchedule`: removes the record's field; whether there was one. */
export async function deleteSchedule(ctx: BackendContext, name: string): Promise<boolean> {
  const removed = await ctx.conn.run('deleteSchedule', undefined, (client) =>
    client.hdel(key(ctx), name),
  );
  return Number(removed) === 1;
}

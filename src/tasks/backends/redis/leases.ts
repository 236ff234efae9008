import { runScript } from '../../../redis/scripts.js';
import type { Lease } from '../../types.js';
import type { BackendContext } from './context.js';
import { PROGRESS, RECOVER, RELEASE, RENEW } from './scripts.js';

/** Expired leases recovered per script call, and calls per `recoverExpired`. */
const RECOVER_BATCH = 500;
const RECOVER_ROUNDS = 100;

/** `renewLeases`: the RENEW script; returns the ids whose lease was lost. */
export async function renewLeases(
  ctx: BackendContext,
  queue: string,
  leases: readonly Lease[],
  leaseMs: number,
): Promise<string[]> {
  if (leases.length === 0) return [];
  const k = ctx.keys.queue(queue);
  const keys = [k.active];
  const args: (string | number)[] = [leaseMs];
  for (const lease of leases) {
    keys.push(k.base + 't:' + lease.id);
    args.push(lease.id, lease.token);
  }
  return (await ctx.conn.run('renewLeases', queue, (client) =>
    runScript(client, RENEW, keys, args),
  )) as string[];
}

/** `release`: the RELEASE script. */
export async function release(
  ctx: BackendContext,
  queue: string,
  leases: readonly Lease[],
): Promise<void> {
  if (leases.length === 0) return;
  const k = ctx.keys.queue(queue);
  const keys = [k.active, k.ready, k.marker];
  const args: string[] = [];
  for (const lease of leases) {
    keys.push(k.base + 't:' + lease.id);
    args.push(lease.id, lease.token);
  }
  await ctx.conn.run('release', queue, (client) => runScript(client, RELEASE, keys, args));
}

/** `recoverExpired`: RECOVER in batches, by the Redis server's clock. */
export async function recoverExpired(ctx: BackendContext, queue: string): Promise<number> {
  const k = ctx.keys.queue(queue);
  const r = ctx.retention;
  let recovered = 0;
  // Bounded: RECOVER_ROUNDS * RECOVER_BATCH leases per call at most; the engine calls it again.
  for (let round = 0; round < RECOVER_ROUNDS; round++) {
    const [count, scanned] = (await ctx.conn.run('recoverExpired', queue, (client) =>
      runScript(
        client,
        RECOVER,
        [k.active, k.ready, k.marker, k.delayed, k.blocked, k.dead],
        [k.base, RECOVER_BATCH, ctx.channel, queue, r.dead.count, r.dead.ageMs],
      ),
    )) as [number, number];
    recovered += Number(count);
    if (Number(scanned) < RECOVER_BATCH) break;
  }
  return recovered;
}

/** `setProgress`: the PROGRESS script. */
export async function setProgress(
  ctx: BackendContext,
  queue: string,
  lease: Lease,
  progress: string,
): Promise<boolean> {
  const k = ctx.keys.queue(queue);
  const stored = await ctx.conn.run('setProgress', queue, (client) =>
    runScript(
      client,
      PROGRESS,
      [k.base + 't:' + lease.id],
      [lease.token, progress, ctx.channel, queue, lease.id],
    ),
  );
  return Number(stored) === 1;
}

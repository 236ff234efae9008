import { runScript } from '../../../redis/scripts.js';
import type { WorkerInfo } from '../../types.js';
import type { BackendContext } from './context.js';
import { HEARTBEAT, REMOVE_WORKER, WORKERS } from './scripts.js';

/** `heartbeat`: the HEARTBEAT script. */
export async function heartbeat(
  ctx: BackendContext,
  worker: WorkerInfo,
  ttlMs: number,
): Promise<void> {
  const k = ctx.keys.queue(worker.queue);
  await ctx.conn.run('heartbeat', worker.queue, (client) =>
    runScript(
      client,
      HEARTBEAT,
      [k.workers, k.workersExp],
      [worker.id, JSON.stringify(worker), Math.ceil(ttlMs)],
    ),
  );
}

/** `removeWorker`: the REMOVE_WORKER script. */
export async function removeWorker(
  ctx: BackendContext,
  queue: string,
  workerId: string,
): Promise<void> {
  const k = ctx.keys.queue(queue);
  await ctx.conn.run('removeWorker', queue, (client) =>
    runScript(client, REMOVE_WORKER, [k.workers, k.workersExp], [workerId]),
  );
}

/** `workers`: the WORKERS script, on this process's clock, sorted by id. */
export async function listWorkers(ctx: BackendContext, queue: string): Promise<WorkerInfo[]> {
  const k = ctx.keys.queue(queue);
  const [serverNow, ...values] = (await ctx.conn.run('workers', queue, (client) =>
    runScript(client, WORKERS, [k.workers, k.workersExp], []),
  )) as [number, ...string[]];
  const workers: WorkerInfo[] = [];
  // Heartbeat times are the server's; shown on this process's clock, as the age it has.
  const now = Date.now();
  for (const value of values) {
    const bar = value.indexOf('|');
    try {
      const worker = JSON.parse(value.slice(bar + 1)) as WorkerInfo;
      if (bar > 0) worker.lastHeartbeatAt = now - (Number(serverNow) - Number(value.slice(0, bar)));
      workers.push(worker);
    } catch {
      // Written by something else: not a worker this backend can describe.
    }
  }
  return workers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

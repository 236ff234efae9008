import type { WorkerInfo } from '../../types.js';
import type { QueueState } from './queue-state.js';

// The worker entries of the memory task backend: a heartbeat keeps one alive for its TTL.

/** `heartbeat`: records the worker until `ttlMs` from now. */
export function heartbeat(state: QueueState, worker: WorkerInfo, ttlMs: number): void {
  const now = Date.now();
  const workers = state.workers;
  workers.set(worker.id, { info: { ...worker }, expiresAt: now + ttlMs });
  // Workers that stopped without saying so leave even when nobody lists them.
  for (const [id, entry] of workers) if (entry.expiresAt <= now) workers.delete(id);
}

/** `workers`: copies of the entries still alive (expired ones are dropped on the way). */
export function listWorkers(state: QueueState): WorkerInfo[] {
  const now = Date.now();
  const out: WorkerInfo[] = [];
  for (const [id, entry] of state.workers) {
    if (entry.expiresAt <= now) state.workers.delete(id);
    else out.push({ ...entry.info });
  }
  return out;
}

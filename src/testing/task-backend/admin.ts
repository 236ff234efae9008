import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskBackend, WorkerInfo } from '../../tasks/types.js';
import { type BackendSuite, ERROR } from './context.js';

/** The dead letter queue, pause, worker heartbeats and schedule markers. */
export function adminTests(s: BackendSuite): void {
  const { describe, it, expect } = s.api;
  let backend!: TaskBackend;
  let second: TaskBackend | undefined;
  let queue!: string;
  // Each test gets a fresh harness (see BackendSuite.use): read it before the test runs.
  const sync = () => {
    ({ backend, second, queue } = s.state);
  };
  s.api.beforeEach(sync);
  const { task, claimAll, claimOne, complete, run } = s;

  describe('dead letter queue', () => {
    const makeDead = async (n: number) => {
      const batch = Array.from({ length: n }, () => task());
      await backend.add(batch);
      for (const t of batch) {
        await run(t.id, 'dead');
        await sleep(5);
      }
      return batch.map((t) => t.id);
    };

    it('lists dead tasks most recent first, with offset and limit', async () => {
      const ids = await makeDead(3);
      const all = await backend.listDead(queue, 0, 10);
      expect(all.map((r) => r.id)).toEqual([...ids].reverse());
      expect(all[0]).toMatchObject({ state: 'dead', error: ERROR });
      expect((await backend.listDead(queue, 1, 1)).map((r) => r.id)).toEqual([ids[1]]);
      expect(await backend.listDead(queue, 5, 10)).toEqual([]);
    });

    it('retries a dead task from the start', async () => {
      const [id] = await makeDead(1);
      expect(await backend.retryDead(queue, id!)).toBe(true);
      const record = await backend.get(queue, id!);
      expect(record).toMatchObject({ state: 'waiting', attempts: 0 });
      expect(await backend.listDead(queue, 0, 10)).toEqual([]);
      expect((await backend.counts(queue)).dead).toBe(0);
      const claimed = await claimOne();
      expect(claimed.task).toMatchObject({ id, attempts: 1 });
      await backend.finish(queue, [complete(claimed)]);
      expect((await backend.get(queue, id!))?.state).toBe('completed');
    });

    it('retries only dead tasks', async () => {
      const t = task();
      await backend.add([t]);
      expect(await backend.retryDead(queue, t.id)).toBe(false);
      expect(await backend.retryDead(queue, 'unknown')).toBe(false);
      expect((await backend.get(queue, t.id))?.state).toBe('waiting');
    });

    it('makes a retried task wait for its dependencies again, and refuses while one is dead', async () => {
      const failing = task();
      const slow = task({ priority: 99 });
      const dependent = task({ dependsOn: [failing.id, slow.id] });
      await backend.add([failing, slow, dependent]);
      const result = await run(failing.id, 'dead');
      expect(result.killed).toEqual([dependent.id]);
      // Its dependency is dead: retrying the dependent alone would run it without it.
      await expect(backend.retryDead(queue, dependent.id)).rejects.toMatchObject({
        code: 'E_TASK_DEPENDENCY',
        context: { dependency: failing.id, state: 'dead' },
      });
      expect((await backend.get(queue, dependent.id))?.state).toBe('dead');
      // Retried in order, it waits for both: the retried dependency and the one still waiting.
      expect(await backend.retryDead(queue, failing.id)).toBe(true);
      expect(await backend.retryDead(queue, dependent.id)).toBe(true);
      expect(await backend.get(queue, dependent.id)).toMatchObject({
        state: 'blocked',
        attempts: 0,
      });
      expect((await backend.get(queue, dependent.id))?.pendingDependencies).toEqual(
        [failing.id, slow.id].sort(),
      );
      await run(failing.id, 'completed');
      expect((await backend.get(queue, dependent.id))?.state).toBe('blocked');
      expect((await claimAll()).map((c) => c.task.id)).toEqual([slow.id]);
    });

    it('retries a dependent whose dependencies completed or are gone straight to ready', async () => {
      const a = task();
      const b = task({ dependsOn: [a.id], failOnDependencyFailure: false });
      await backend.add([a, b]);
      await run(a.id, 'dead');
      await run(b.id, 'dead');
      // A dead dependency does not hold back a task that does not fail with its dependencies.
      expect(await backend.retryDead(queue, b.id)).toBe(true);
      expect((await backend.get(queue, b.id))?.state).toBe('waiting');
    });

    it('purges every dead task of the queue and nothing else', async () => {
      const ids = await makeDead(3);
      const alive = task();
      await backend.add([alive]);
      expect(await backend.purgeDead(queue)).toBe(3);
      expect(await backend.listDead(queue, 0, 10)).toEqual([]);
      expect((await backend.counts(queue)).dead).toBe(0);
      expect(await backend.get(queue, ids[0]!)).toBeUndefined();
      expect((await backend.get(queue, alive.id))?.state).toBe('waiting');
      expect(await backend.purgeDead(queue)).toBe(0);
    });
  });

  describe('pause and resume', () => {
    it('stops handing out tasks of a paused queue only, for every process', async () => {
      await backend.add([task(), task({ queue: `${queue}.b` })]);
      await backend.pause(queue);
      expect((await backend.counts(queue)).paused).toBe(true);
      expect(await claimAll()).toEqual([]);
      if (second !== undefined) {
        expect(await second.claim(queue, 'w2', 10, 30_000)).toEqual([]);
        expect((await second.counts(queue)).paused).toBe(true);
      }
      expect(await backend.claim(`${queue}.b`, 'w1', 10, 30_000)).toHaveLength(1);
      await backend.resume(queue);
      expect((await backend.counts(queue)).paused).toBe(false);
      expect(await claimAll()).toHaveLength(1);
    });

    it('still accepts tasks and outcomes while paused', async () => {
      const t = task();
      await backend.add([t]);
      const claimed = await claimOne();
      await backend.pause(queue);
      await backend.add([task()]);
      expect((await backend.finish(queue, [complete(claimed)]))[0]?.accepted).toBe(true);
      expect((await backend.counts(queue)).waiting).toBe(1);
      await backend.resume(queue);
    });
  });

  describe('workers', () => {
    const worker = (overrides: Partial<WorkerInfo> = {}): WorkerInfo => ({
      id: `worker-${randomUUID().slice(0, 8)}`,
      queue,
      host: 'host-a',
      pid: 1234,
      concurrency: 4,
      active: 1,
      processed: 10,
      failed: 2,
      startedAt: Date.now() - 1_000,
      lastHeartbeatAt: Date.now(),
      ...overrides,
    });

    it('lists workers from their heartbeats, with the latest values', async () => {
      const a = worker();
      const b = worker({ host: 'host-b', lastCompletedAt: Date.now() - 10 });
      await backend.heartbeat(a, 10_000);
      await (second ?? backend).heartbeat(b, 10_000);
      await backend.heartbeat({ ...a, active: 3, processed: 11 }, 10_000);
      const listed = await backend.workers(queue);
      expect(listed.map((w) => w.id).sort()).toEqual([a.id, b.id].sort());
      expect(listed.find((w) => w.id === a.id)).toMatchObject({
        active: 3,
        processed: 11,
        host: 'host-a',
        pid: 1234,
      });
      // The heartbeat time is the store's, shown on the reader's clock.
      const listedB = listed.find((w) => w.id === b.id)!;
      expect(listedB).toEqual({ ...b, lastHeartbeatAt: listedB.lastHeartbeatAt });
      expect(Math.abs(listedB.lastHeartbeatAt - b.lastHeartbeatAt)).toBeLessThan(1_000);
      expect(await backend.workers(`${queue}.b`)).toEqual([]);
    });

    it('drops a worker whose heartbeat expired, or that was removed', async () => {
      const a = worker();
      const b = worker();
      await backend.heartbeat(a, 200);
      await backend.heartbeat(b, 10_000);
      await backend.removeWorker(queue, b.id);
      expect((await backend.workers(queue)).map((w) => w.id)).toEqual([a.id]);
      await sleep(300);
      expect(await backend.workers(queue)).toEqual([]);
    });
  });

  describe('schedule slots', () => {
    it('grants each slot to exactly one caller among many at once', async () => {
      const slot = Date.now() - (Date.now() % 60_000);
      const name = `sched-${randomUUID().slice(0, 8)}`;
      const callers = Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? backend : (second ?? backend)).claimScheduleSlot(name, slot, 60_000),
      );
      const granted = await Promise.all(callers);
      expect(granted.filter(Boolean)).toHaveLength(1);
      expect(await backend.claimScheduleSlot(name, slot, 60_000)).toBe(false);
      expect(await backend.claimScheduleSlot(name, slot + 60_000, 60_000)).toBe(true);
      expect(await backend.claimScheduleSlot(`${name}-other`, slot, 60_000)).toBe(true);
    });
  });
}

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StoredSchedule, WorkerInfo } from '../../tasks/types.js';
import { type BackendSuite, ERROR } from './context.js';

/** The dead letter queue, pause, worker heartbeats, schedule markers and schedule records. */
export function adminTests(s: BackendSuite): void {
  const { describe, it, expect } = s.api;
  const { task, claimAll, claimOne, complete, run } = s;

  it('reports its server version as a version string, when it has serverVersion', async () => {
    if (typeof s.backend.serverVersion !== 'function') return;
    await expect(s.backend.serverVersion()).resolves.toMatch(/^\d+(\.\d+)*/);
  });

  describe('dead letter queue', () => {
    const makeDead = async (n: number) => {
      const batch = Array.from({ length: n }, () => task());
      await s.backend.add(batch);
      for (const t of batch) {
        await run(t.id, 'dead');
        await sleep(5);
      }
      return batch.map((t) => t.id);
    };

    it('lists dead tasks most recent first, with offset and limit', async () => {
      const ids = await makeDead(3);
      const all = await s.backend.listDead(s.queue, 0, 10);
      expect(all.map((r) => r.id)).toEqual([...ids].reverse());
      expect(all[0]).toMatchObject({ state: 'dead', error: ERROR });
      expect((await s.backend.listDead(s.queue, 1, 1)).map((r) => r.id)).toEqual([ids[1]]);
      expect(await s.backend.listDead(s.queue, 5, 10)).toEqual([]);
    });

    it('retries a dead task from the start', async () => {
      const [id] = await makeDead(1);
      expect(await s.backend.retryDead(s.queue, id!)).toBe(true);
      const record = await s.backend.get(s.queue, id!);
      expect(record).toMatchObject({ state: 'waiting', attempts: 0 });
      expect(await s.backend.listDead(s.queue, 0, 10)).toEqual([]);
      expect((await s.backend.counts(s.queue)).dead).toBe(0);
      const claimed = await claimOne();
      expect(claimed.task).toMatchObject({ id, attempts: 1 });
      await s.backend.finish(s.queue, [complete(claimed)]);
      expect((await s.backend.get(s.queue, id!))?.state).toBe('completed');
    });

    it('retries only dead tasks', async () => {
      const t = task();
      await s.backend.add([t]);
      expect(await s.backend.retryDead(s.queue, t.id)).toBe(false);
      expect(await s.backend.retryDead(s.queue, 'unknown')).toBe(false);
      expect((await s.backend.get(s.queue, t.id))?.state).toBe('waiting');
    });

    it('makes a retried task wait for its dependencies again, and refuses while one is dead', async () => {
      const failing = task();
      const slow = task({ priority: 99 });
      const dependent = task({ dependsOn: [failing.id, slow.id] });
      await s.backend.add([failing, slow, dependent]);
      const result = await run(failing.id, 'dead');
      expect(result.killed).toEqual([dependent.id]);
      // Its dependency is dead: retrying the dependent alone would run it without it.
      await expect(s.backend.retryDead(s.queue, dependent.id)).rejects.toMatchObject({
        code: 'E_TASK_DEPENDENCY',
        context: { dependency: failing.id, state: 'dead' },
      });
      expect((await s.backend.get(s.queue, dependent.id))?.state).toBe('dead');
      // Retried in order, it waits for both: the retried dependency and the one still waiting.
      expect(await s.backend.retryDead(s.queue, failing.id)).toBe(true);
      expect(await s.backend.retryDead(s.queue, dependent.id)).toBe(true);
      expect(await s.backend.get(s.queue, dependent.id)).toMatchObject({
        state: 'blocked',
        attempts: 0,
      });
      expect((await s.backend.get(s.queue, dependent.id))?.pendingDependencies).toEqual(
        [failing.id, slow.id].sort(),
      );
      await run(failing.id, 'completed');
      expect((await s.backend.get(s.queue, dependent.id))?.state).toBe('blocked');
      expect((await claimAll()).map((c) => c.task.id)).toEqual([slow.id]);
    });

    it('retries a dependent whose dependencies completed or are gone straight to ready', async () => {
      const a = task();
      const b = task({ dependsOn: [a.id], failOnDependencyFailure: false });
      await s.backend.add([a, b]);
      await run(a.id, 'dead');
      await run(b.id, 'dead');
      // A dead dependency does not hold back a task that does not fail with its dependencies.
      expect(await s.backend.retryDead(s.queue, b.id)).toBe(true);
      expect((await s.backend.get(s.queue, b.id))?.state).toBe('waiting');
    });

    it('purges every dead task of the queue and nothing else', async () => {
      const ids = await makeDead(3);
      const alive = task();
      await s.backend.add([alive]);
      expect(await s.backend.purgeDead(s.queue)).toBe(3);
      expect(await s.backend.listDead(s.queue, 0, 10)).toEqual([]);
      expect((await s.backend.counts(s.queue)).dead).toBe(0);
      expect(await s.backend.get(s.queue, ids[0]!)).toBeUndefined();
      expect((await s.backend.get(s.queue, alive.id))?.state).toBe('waiting');
      expect(await s.backend.purgeDead(s.queue)).toBe(0);
    });

    it('restores dead tasks from their records into another queue, once', async () => {
      // Optional in the interface: a backend without it has nothing to check here.
      if (s.backend.restoreDead === undefined) return;
      const ids = await makeDead(2);
      const records = await s.backend.listDead(s.queue, 0, 10);
      const target = `${s.queue}.b`;
      const outcomes = await s.backend.restoreDead(
        target,
        records.map((r) => ({ ...r, queue: target })),
      );
      expect(outcomes.map((o) => o.created)).toEqual([true, true]);
      const restored = await s.backend.listDead(target, 0, 10);
      expect(restored.map((r) => r.id)).toEqual([...ids].reverse());
      for (const [i, r] of restored.entries()) {
        const o = records[i]!;
        expect(r).toMatchObject({
          ...pick(o, ['id', 'name', 'payload', 'priority', 'runAt', 'maxRetries', 'backoff']),
          ...pick(o, ['timeoutMs', 'dependsOn', 'createdAt', 'attempts', 'finishedAt']),
          queue: target,
          state: 'dead',
          error: ERROR,
        });
      }
      expect((await s.backend.counts(target)).dead).toBe(2);
      expect(await s.backend.queues()).toContain(target);
      // A second restore, or one over a stored id, changes nothing.
      const again = await s.backend.restoreDead(target, restored);
      expect(again.map((o) => o.created)).toEqual([false, false]);
      expect((await s.backend.counts(target)).dead).toBe(2);
      // A restored task is a dead task like any other: it can be retried.
      expect(await s.backend.retryDead(target, ids[0]!)).toBe(true);
      expect((await s.backend.get(target, ids[0]!))?.state).toBe('waiting');
    });
  });

  describe('pause and resume', () => {
    it('stops handing out tasks of a paused queue only, for every process', async () => {
      await s.backend.add([task(), task({ queue: `${s.queue}.b` })]);
      await s.backend.pause(s.queue);
      expect((await s.backend.counts(s.queue)).paused).toBe(true);
      expect(await claimAll()).toEqual([]);
      if (s.second !== undefined) {
        expect(await s.second.claim(s.queue, 'w2', 10, 30_000)).toEqual([]);
        expect((await s.second.counts(s.queue)).paused).toBe(true);
      }
      expect(await s.backend.claim(`${s.queue}.b`, 'w1', 10, 30_000)).toHaveLength(1);
      await s.backend.resume(s.queue);
      expect((await s.backend.counts(s.queue)).paused).toBe(false);
      expect(await claimAll()).toHaveLength(1);
    });

    it('still accepts tasks and outcomes while paused', async () => {
      const t = task();
      await s.backend.add([t]);
      const claimed = await claimOne();
      await s.backend.pause(s.queue);
      await s.backend.add([task()]);
      expect((await s.backend.finish(s.queue, [complete(claimed)]))[0]?.accepted).toBe(true);
      expect((await s.backend.counts(s.queue)).waiting).toBe(1);
      await s.backend.resume(s.queue);
    });
  });

  describe('workers', () => {
    const worker = (overrides: Partial<WorkerInfo> = {}): WorkerInfo => ({
      id: `worker-${randomUUID().slice(0, 8)}`,
      queue: s.queue,
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
      await s.backend.heartbeat(a, 10_000);
      await (s.second ?? s.backend).heartbeat(b, 10_000);
      await s.backend.heartbeat({ ...a, active: 3, processed: 11 }, 10_000);
      const listed = await s.backend.workers(s.queue);
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
      expect(await s.backend.workers(`${s.queue}.b`)).toEqual([]);
    });

    it('drops a worker whose heartbeat expired, or that was removed', async () => {
      const a = worker();
      const b = worker();
      await s.backend.heartbeat(a, 200);
      await s.backend.heartbeat(b, 10_000);
      await s.backend.removeWorker(s.queue, b.id);
      expect((await s.backend.workers(s.queue)).map((w) => w.id)).toEqual([a.id]);
      await sleep(300);
      expect(await s.backend.workers(s.queue)).toEqual([]);
    });
  });

  describe('schedule slots', () => {
    it('grants each slot to exactly one caller among many at once', async () => {
      const slot = Date.now() - (Date.now() % 60_000);
      const name = `sched-${randomUUID().slice(0, 8)}`;
      const callers = Array.from({ length: 20 }, (_, i) =>
        (i % 2 === 0 ? s.backend : (s.second ?? s.backend)).claimScheduleSlot(name, slot, 60_000),
      );
      const granted = await Promise.all(callers);
      expect(granted.filter(Boolean)).toHaveLength(1);
      expect(await s.backend.claimScheduleSlot(name, slot, 60_000)).toBe(false);
      expect(await s.backend.claimScheduleSlot(name, slot + 60_000, 60_000)).toBe(true);
      expect(await s.backend.claimScheduleSlot(`${name}-other`, slot, 60_000)).toBe(true);
    });
  });

  describe('schedule records', () => {
    const record = (name: string, state: StoredSchedule['state']): StoredSchedule => ({
      name,
      taskName: 'send_digest',
      kind: 'cron',
      cron: '0 2 * * *',
      timezone: 'Europe/Paris',
      payload: '{"full":true}',
      options: '{"queue":"mail"}',
      origin: 'admin',
      state,
      updatedAt: 1_700_000_000_000,
    });

    it('stores, replaces and deletes records, seen by every process', async () => {
      const name = `sched-${randomUUID().slice(0, 8)}`;
      const other = s.second ?? s.backend;
      await s.backend.saveSchedule(record(name, 'active'));
      expect((await other.schedules()).filter((r) => r.name === name)).toEqual([
        record(name, 'active'),
      ]);
      await other.saveSchedule({ ...record(name, 'paused'), updatedAt: 1_700_000_000_001 });
      const [seen] = (await s.backend.schedules()).filter((r) => r.name === name);
      expect(seen).toEqual({ ...record(name, 'paused'), updatedAt: 1_700_000_000_001 });
      expect(await s.backend.deleteSchedule(name)).toBe(true);
      expect(await other.deleteSchedule(name)).toBe(false);
      expect((await other.schedules()).some((r) => r.name === name)).toBe(false);
    });

    it('hands out copies: changing a returned record changes nothing stored', async () => {
      const name = `sched-${randomUUID().slice(0, 8)}`;
      const mine = record(name, 'active');
      await s.backend.saveSchedule(mine);
      mine.state = 'removed';
      const [read] = (await s.backend.schedules()).filter((r) => r.name === name);
      read!.state = 'paused';
      const [again] = (await s.backend.schedules()).filter((r) => r.name === name);
      expect(again!.state).toBe('active');
      await s.backend.deleteSchedule(name);
    });
  });
}

function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const key of keys) if (o[key] !== undefined) out[key] = o[key];
  return out;
}

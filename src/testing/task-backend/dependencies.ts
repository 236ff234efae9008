import { eventually } from '../eventually.js';
import type { BackendSuite } from './context.js';

/** Dependencies, cancellation and queue counts. */
export function dependenciesTests(s: BackendSuite): void {
  const { describe, it, expect } = s.api;
  const { task, claimAll, claimOne, complete, retry, run } = s;

  describe('dependencies', () => {
    it('blocks a dependent until its dependency completes, then releases it', async () => {
      const a = task();
      const b = task({ dependsOn: [a.id], priority: 0 });
      const outcomes = await s.backend.add([a, b]);
      expect(outcomes.map((o) => o.state)).toEqual(['waiting', 'blocked']);
      const blocked = await s.backend.get(s.queue, b.id);
      expect(blocked?.state).toBe('blocked');
      expect([...(blocked?.pendingDependencies ?? [])]).toEqual([a.id]);
      expect((await s.backend.counts(s.queue)).blocked).toBe(1);
      const first = await claimAll();
      expect(first.map((c) => c.task.id)).toEqual([a.id]);
      const [result] = await s.backend.finish(s.queue, [complete(first[0]!)]);
      expect(result?.released).toEqual([b.id]);
      expect((await s.backend.get(s.queue, b.id))?.state).toBe('waiting');
      expect((await claimOne()).task.id).toBe(b.id);
    });

    it('waits for every dependency', async () => {
      const a = task();
      const b = task();
      const c = task({ dependsOn: [a.id, b.id] });
      await s.backend.add([a, b, c]);
      await run(a.id, 'completed');
      const half = await s.backend.get(s.queue, c.id);
      expect(half?.state).toBe('blocked');
      expect([...(half?.pendingDependencies ?? [])]).toEqual([b.id]);
      const result = await run(b.id, 'completed');
      expect(result.released).toEqual([c.id]);
      expect((await claimOne()).task.id).toBe(c.id);
    });

    it('accepts dependencies added in an earlier call', async () => {
      const a = task();
      await s.backend.add([a]);
      const b = task({ dependsOn: [a.id] });
      expect((await s.backend.add([b]))[0]?.state).toBe('blocked');
      await run(a.id, 'completed');
      expect((await s.backend.get(s.queue, b.id))?.state).toBe('waiting');
    });

    it('counts dependencies already complete at submit time as complete', async () => {
      const a = task();
      await s.backend.add([a]);
      await run(a.id, 'completed');
      const b = task({ dependsOn: [a.id] });
      expect(await s.backend.add([b])).toEqual([{ id: b.id, created: true, state: 'waiting' }]);
      expect((await claimOne()).task.id).toBe(b.id);
    });

    it('kills dependents, transitively, when a dependency ends dead', async () => {
      const a = task();
      const b = task({ dependsOn: [a.id] });
      const c = task({ dependsOn: [b.id] });
      await s.backend.add([a, b, c]);
      const result = await run(a.id, 'dead');
      expect(result.killed).toContain(b.id);
      const rb = await s.backend.get(s.queue, b.id);
      expect(rb?.state).toBe('dead');
      expect(rb?.error?.name).toBe('TaskDependencyError');
      expect(rb?.error?.code).toBe('E_TASK_DEPENDENCY');
      expect(rb?.error?.message).toContain(a.id);
      expect(rb?.attempts).toBe(0);
      expect(rb?.finishedAt).toBeGreaterThan(0);
      await eventually(
        async () => (await s.backend.get(s.queue, c.id))?.state === 'dead',
        'the grandchild to die',
      );
      expect((await s.backend.get(s.queue, c.id))?.error?.message).toContain(b.id);
      expect(await s.backend.counts(s.queue)).toMatchObject({ blocked: 0, dead: 3 });
      const deadIds = (await s.backend.listDead(s.queue, 0, 10)).map((r) => r.id);
      expect(deadIds.sort()).toEqual([a.id, b.id, c.id].sort());
    });

    it('runs a dependent anyway after a dead dependency when failOnDependencyFailure is false', async () => {
      const a = task();
      const b = task({ dependsOn: [a.id], failOnDependencyFailure: false });
      await s.backend.add([a, b]);
      const result = await run(a.id, 'dead');
      expect(result.released).toEqual([b.id]);
      expect(result.killed ?? []).toEqual([]);
      expect((await claimOne()).task.id).toBe(b.id);
    });

    it('kills a dependent added after its dependency died, unless told otherwise', async () => {
      const a = task();
      await s.backend.add([a]);
      await run(a.id, 'dead');
      const b = task({ dependsOn: [a.id] });
      const c = task({ dependsOn: [a.id], failOnDependencyFailure: false });
      const outcomes = await s.backend.add([b, c]);
      expect(outcomes.map((o) => o.state)).toEqual(['dead', 'waiting']);
      expect((await s.backend.get(s.queue, b.id))?.error?.message).toContain(a.id);
    });

    it('treats a cancelled dependency like a dead one', async () => {
      const a = task();
      const b = task({ dependsOn: [a.id] });
      const c = task({ dependsOn: [a.id], failOnDependencyFailure: false });
      await s.backend.add([a, b, c]);
      expect(await s.backend.cancel(s.queue, a.id)).toBe(true);
      expect((await s.backend.get(s.queue, b.id))?.state).toBe('dead');
      expect((await s.backend.get(s.queue, b.id))?.error?.code).toBe('E_TASK_DEPENDENCY');
      expect((await s.backend.get(s.queue, c.id))?.state).toBe('waiting');
    });

    it('rejects an unknown dependency without storing anything of the call', async () => {
      const a = task();
      const b = task({ dependsOn: ['no-such-task'] });
      await expect(s.backend.add([a, b])).rejects.toMatchObject({ code: 'E_TASK_DEPENDENCY' });
      expect(await s.backend.get(s.queue, a.id)).toBeUndefined();
      expect(await s.backend.get(s.queue, b.id)).toBeUndefined();
      expect(await s.backend.counts(s.queue)).toMatchObject({ waiting: 0, blocked: 0 });
      expect(await claimAll()).toEqual([]);
    });

    it('forgets a cancelled dependent when its dependency completes', async () => {
      const a = task();
      const b = task({ dependsOn: [a.id] });
      await s.backend.add([a, b]);
      expect(await s.backend.cancel(s.queue, b.id)).toBe(true);
      const result = await run(a.id, 'completed');
      expect(result.released ?? []).toEqual([]);
      expect((await s.backend.get(s.queue, b.id))?.state).toBe('cancelled');
    });

    it('releases a dependent on completion even after a retry of the dependency', async () => {
      const a = task();
      const b = task({ dependsOn: [a.id] });
      await s.backend.add([a, b]);
      await s.backend.finish(s.queue, [retry(await claimOne(), Date.now() - 1)]);
      expect((await s.backend.get(s.queue, b.id))?.state).toBe('blocked');
      await run(a.id, 'completed');
      expect((await s.backend.get(s.queue, b.id))?.state).toBe('waiting');
    });
  });

  describe('cancel', () => {
    it('cancels waiting, delayed and blocked tasks', async () => {
      const w = task();
      const d = task({ runAt: Date.now() + 60_000 });
      const b = task({ dependsOn: [w.id], failOnDependencyFailure: false });
      await s.backend.add([w, d, b]);
      expect(await s.backend.cancel(s.queue, d.id)).toBe(true);
      expect(await s.backend.cancel(s.queue, b.id)).toBe(true);
      expect(await s.backend.cancel(s.queue, w.id)).toBe(true);
      for (const id of [w.id, d.id, b.id]) {
        const record = await s.backend.get(s.queue, id);
        expect(record?.state).toBe('cancelled');
        expect(record?.finishedAt).toBeGreaterThan(0);
      }
      expect(await claimAll()).toEqual([]);
      expect(await s.backend.counts(s.queue)).toMatchObject({
        waiting: 0,
        delayed: 0,
        blocked: 0,
        active: 0,
      });
    });

    it('does not cancel active, finished or unknown tasks', async () => {
      const [a, b] = [task(), task()];
      await s.backend.add([a, b]);
      const claimed = await claimAll(2);
      await s.backend.finish(s.queue, [complete(claimed[1]!)]);
      expect(await s.backend.cancel(s.queue, a.id)).toBe(false);
      expect(await s.backend.cancel(s.queue, b.id)).toBe(false);
      expect(await s.backend.cancel(s.queue, 'unknown')).toBe(false);
      expect((await s.backend.get(s.queue, a.id))?.state).toBe('active');
      expect(await s.backend.cancel(s.queue, a.id)).toBe(false);
    });

    it('does not cancel twice', async () => {
      const t = task();
      await s.backend.add([t]);
      expect(await s.backend.cancel(s.queue, t.id)).toBe(true);
      expect(await s.backend.cancel(s.queue, t.id)).toBe(false);
    });
  });

  describe('counts', () => {
    it('counts an unknown queue as empty and not paused', async () => {
      expect(await s.backend.counts(`${s.queue}.b`)).toEqual({
        waiting: 0,
        delayed: 0,
        blocked: 0,
        active: 0,
        completed: 0,
        dead: 0,
        paused: false,
      });
    });

    it('reports the oldest ready task waiting', async () => {
      const now = Date.now();
      const a = task({ createdAt: now - 5_000, runAt: now - 5_000 });
      const b = task({ createdAt: now - 1_000, runAt: now - 1_000 });
      const late = task({ createdAt: now - 9_000, runAt: now + 60_000 });
      await s.backend.add([a, b, late]);
      expect((await s.backend.counts(s.queue)).oldestWaitingAt).toBe(now - 5_000);
      await claimOne();
      expect((await s.backend.counts(s.queue)).oldestWaitingAt).toBe(now - 1_000);
      await claimOne();
      expect((await s.backend.counts(s.queue)).oldestWaitingAt).toBeUndefined();
    });

    it('counts every state', async () => {
      const ready = task();
      const delayed = task({ runAt: Date.now() + 60_000 });
      const blocked = task({ dependsOn: [ready.id] });
      const active = task({ priority: 0 });
      await s.backend.add([ready, delayed, blocked, active]);
      await claimOne();
      expect(await s.backend.counts(s.queue)).toMatchObject({
        waiting: 1,
        delayed: 1,
        blocked: 1,
        active: 1,
        completed: 0,
        dead: 0,
        paused: false,
      });
    });
  });
}

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UNSTARTED_DELIVERIES } from '../../src/tasks/errors.js';
import type {
  AttemptOutcome,
  BackoffSpec,
  ClaimedTask,
  Lease,
  NewTask,
  RetentionSpec,
  TaskBackend,
  TaskBackendEvent,
  TaskErrorInfo,
  WorkerInfo,
} from '../../src/tasks/types.js';
import { eventually } from '../support/eventually.js';

/**
 * What the conformance suite asks of a harness. Every backend factory is expected to accept a
 * `retention` option (`memoryTaskBackend({ retention })`, `redisTaskBackend({ retention })`) so the
 * retention tests can set small bounds.
 */
export interface TaskBackendHarnessOptions {
  /** Retention the backend must apply; absent for most tests (the backend's defaults apply). */
  retention?: RetentionSpec;
}

/** One backend under test. */
export interface TaskBackendHarness {
  backend: TaskBackend;
  /**
   * A queue name unique to this test. The suite also uses `${queue}.b` as a second queue; cleanup
   * must remove both.
   */
  queue: string;
  /**
   * A second backend on the same store (another connection, as another process would have), when
   * the backend is shared across processes: cross-process tests (schedule slots, events, pause)
   * then run through it too. A memory backend leaves it out.
   */
  second?: TaskBackend;
  /** Removes everything the test stored and closes the backend(s). */
  cleanup(): Promise<void>;
}

const BACKOFF: BackoffSpec = {
  type: 'exponential',
  delayMs: 1_000,
  factor: 2,
  maxDelayMs: 60_000,
  jitter: 0.2,
};

const ERROR: TaskErrorInfo = {
  name: 'TypeError',
  message: 'boom',
  stack: 'TypeError: boom\n    at handler (file.ts:1:1)',
  code: 'E_BOOM',
};

/**
 * The contract every {@link TaskBackend} passes. Real time with short durations; each test gets a
 * fresh harness (a unique queue name, and for shared stores a unique key prefix).
 *
 * @example
 * ```ts
 * describeTaskBackend('memory', async ({ retention } = {}) => {
 *   const backend = memoryTaskBackend({ retention });
 *   return { backend, queue: 'q', cleanup: () => backend.close() };
 * });
 * ```
 */
export function describeTaskBackend(
  name: string,
  create: (options?: TaskBackendHarnessOptions) => Promise<TaskBackendHarness>,
): void {
  describe(`TaskBackend conformance: ${name}`, () => {
    let backend: TaskBackend;
    let second: TaskBackend | undefined;
    let queue: string;
    let cleanup: (() => Promise<void>) | undefined;
    let seq = 0;

    const use = async (options?: TaskBackendHarnessOptions) => {
      await cleanup?.();
      const harness = await create(options);
      ({ backend, second, queue } = harness);
      cleanup = harness.cleanup;
    };

    beforeEach(async () => {
      seq = 0;
      await use();
    });
    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    /** A new task of the test queue, ready now unless overridden. */
    const task = (overrides: Partial<NewTask> = {}): NewTask => {
      const now = Date.now();
      seq += 1;
      return {
        id: `t${seq}-${randomUUID().slice(0, 8)}`,
        name: 'job',
        queue,
        payload: JSON.stringify({ n: seq }),
        priority: 50,
        runAt: now,
        maxRetries: 3,
        backoff: BACKOFF,
        timeoutMs: 0,
        dependsOn: [],
        failOnDependencyFailure: true,
        createdAt: now,
        ...overrides,
      };
    };

    const claimAll = (max = 100, worker = 'w1', leaseMs = 30_000) =>
      backend.claim(queue, worker, max, leaseMs);

    const claimOne = async (worker = 'w1', leaseMs = 30_000): Promise<ClaimedTask> => {
      const [claimed] = await backend.claim(queue, worker, 1, leaseMs);
      if (claimed === undefined) throw new Error('expected a task to claim');
      return claimed;
    };

    const lease = (c: ClaimedTask): Lease => ({ id: c.task.id, token: c.token });

    const complete = (c: ClaimedTask, result?: string): AttemptOutcome => ({
      kind: 'completed',
      id: c.task.id,
      token: c.token,
      result,
      finishedAt: Date.now(),
    });
    const dead = (c: ClaimedTask, error: TaskErrorInfo = ERROR): AttemptOutcome => ({
      kind: 'dead',
      id: c.task.id,
      token: c.token,
      error,
      finishedAt: Date.now(),
    });
    const retry = (c: ClaimedTask, runAt: number): AttemptOutcome => ({
      kind: 'retry',
      id: c.task.id,
      token: c.token,
      error: ERROR,
      runAt,
    });

    /** Claims the task with `id` (it must be the next one) and finishes it with `outcome`. */
    const run = async (id: string, outcome: 'completed' | 'dead') => {
      const claimed = await claimOne();
      expect(claimed.task.id).toBe(id);
      const [result] = await backend.finish(queue, [
        outcome === 'completed' ? complete(claimed, '"ok"') : dead(claimed),
      ]);
      expect(result?.accepted).toBe(true);
      return result!;
    };

    describe('add and get', () => {
      it('stores a task as given and returns it as waiting with no attempts', async () => {
        const t = task({
          payload: '{"a":[1,2],"b":"x"}',
          priority: 7,
          maxRetries: 5,
          timeoutMs: 1_500,
          name: 'send_email',
        });
        const [outcome] = await backend.add([t]);
        expect(outcome).toEqual({ id: t.id, created: true, state: 'waiting' });
        const record = await backend.get(queue, t.id);
        expect(record).toMatchObject({
          id: t.id,
          name: 'send_email',
          queue,
          payload: '{"a":[1,2],"b":"x"}',
          priority: 7,
          runAt: t.runAt,
          maxRetries: 5,
          backoff: BACKOFF,
          timeoutMs: 1_500,
          failOnDependencyFailure: true,
          createdAt: t.createdAt,
          state: 'waiting',
          attempts: 0,
        });
        expect([...record!.dependsOn]).toEqual([]);
        expect(record!.result).toBeUndefined();
        expect(record!.error).toBeUndefined();
        expect(record!.workerId).toBeUndefined();
      });

      it('answers undefined for an unknown id', async () => {
        expect(await backend.get(queue, 'no-such-task')).toBeUndefined();
      });

      it('keeps the first task when an id is submitted again, in a later call or the same one', async () => {
        const t = task({ payload: '"first"' });
        await backend.add([t]);
        const again = await backend.add([{ ...t, payload: '"second"', priority: 0 }]);
        expect(again).toEqual([{ id: t.id, created: false, state: 'waiting' }]);
        const u = task({ payload: '"u1"' });
        const both = await backend.add([u, { ...u, payload: '"u2"' }]);
        expect(both.map((o) => o.created)).toEqual([true, false]);
        expect((await backend.get(queue, t.id))?.payload).toBe('"first"');
        expect((await backend.get(queue, u.id))?.payload).toBe('"u1"');
        expect((await backend.counts(queue)).waiting).toBe(2);
        expect(await claimAll()).toHaveLength(2);
      });

      it('reports the current state of an existing task when it is added again', async () => {
        const t = task();
        await backend.add([t]);
        await claimOne();
        expect(await backend.add([t])).toEqual([{ id: t.id, created: false, state: 'active' }]);
      });

      it('lists the queues tasks were added to', async () => {
        await backend.add([task(), task({ queue: `${queue}.b` })]);
        const queues = await backend.queues();
        expect(queues).toContain(queue);
        expect(queues).toContain(`${queue}.b`);
      });

      it('keeps queues apart', async () => {
        const other = task({ queue: `${queue}.b` });
        await backend.add([other]);
        expect(await backend.get(queue, other.id)).toBeUndefined();
        expect(await claimAll()).toEqual([]);
        const [claimed] = await backend.claim(`${queue}.b`, 'w1', 5, 30_000);
        expect(claimed?.task.id).toBe(other.id);
      });
    });

    describe('claim order', () => {
      it('hands out the lowest priority number first, then in submission order', async () => {
        const now = Date.now();
        const a = task({ priority: 50, createdAt: now });
        const b = task({ priority: 0, createdAt: now });
        const c = task({ priority: 75, createdAt: now });
        const d = task({ priority: 50, createdAt: now });
        const e = task({ priority: 25, createdAt: now });
        await backend.add([a, b]);
        await backend.add([c]);
        await backend.add([d, e]);
        const claimed = await claimAll(10);
        expect(claimed.map((x) => x.task.id)).toEqual([b.id, e.id, a.id, d.id, c.id]);
      });

      it('keeps that order when claimed one at a time', async () => {
        const ids: string[] = [];
        for (const priority of [100, 0, 50, 0, 100, 50]) {
          const t = task({ priority });
          ids.push(t.id);
          await backend.add([t]);
        }
        const order: string[] = [];
        for (let i = 0; i < 6; i++) order.push((await claimOne()).task.id);
        expect(order).toEqual([ids[1], ids[3], ids[2], ids[5], ids[0], ids[4]]);
        expect(await claimAll()).toEqual([]);
      });

      it('keeps FIFO among many tasks of one priority', async () => {
        const batch = Array.from({ length: 50 }, () => task());
        await backend.add(batch);
        const claimed = [...(await claimAll(20)), ...(await claimAll(40))];
        expect(claimed.map((c) => c.task.id)).toEqual(batch.map((t) => t.id));
      });

      it('holds a delayed task until its time, then hands it out by priority', async () => {
        const now = Date.now();
        const later = task({ runAt: now + 300, priority: 0 });
        const ready = task({ priority: 90 });
        const [outcome] = await backend.add([later]);
        expect(outcome?.state).toBe('delayed');
        expect((await backend.get(queue, later.id))?.state).toBe('delayed');
        await backend.add([ready]);
        expect((await backend.counts(queue)).delayed).toBe(1);
        const first = await claimAll(10);
        expect(first.map((c) => c.task.id)).toEqual([ready.id]);
        await sleep(350);
        const second = await claimAll(10);
        expect(second.map((c) => c.task.id)).toEqual([later.id]);
        expect((await backend.counts(queue)).delayed).toBe(0);
      });

      it('treats runAt at or before createdAt as ready now', async () => {
        const now = Date.now();
        const t = task({ runAt: now - 5_000, createdAt: now });
        const [outcome] = await backend.add([t]);
        expect(outcome?.state).toBe('waiting');
        expect((await claimOne()).task.id).toBe(t.id);
      });
    });

    describe('claim', () => {
      it('hands out at most max tasks per call, and nothing when empty', async () => {
        await backend.add(Array.from({ length: 5 }, () => task()));
        expect(await claimAll(3)).toHaveLength(3);
        expect(await claimAll(10)).toHaveLength(2);
        expect(await claimAll(10)).toEqual([]);
      });

      it('hands out each task with what it was submitted with, and its last error and progress', async () => {
        const now = Date.now();
        // One call, one creation time, different options: each claimed record has its own.
        const a = task({ payload: '{"a":1}', maxRetries: 5, timeoutMs: 1_500, priority: 10 });
        const b = task({
          name: 'other',
          payload: '[2]',
          maxRetries: 0,
          backoff: { ...BACKOFF, type: 'fixed', delayMs: 250 },
          createdAt: now,
          runAt: now,
          failOnDependencyFailure: false,
          priority: 10,
        });
        const c = task({
          payload: '',
          maxRetries: 5,
          timeoutMs: 1_500,
          priority: 10,
          dependsOn: [],
        });
        await backend.add([a, b, c]);
        const claimed = await claimAll(10);
        expect(claimed.map((x) => x.task.id)).toEqual([a.id, b.id, c.id]);
        for (const [i, submitted] of [a, b, c].entries()) {
          const { state, attempts, workerId, startedAt, ...rest } = claimed[i]!.task;
          expect(rest).toEqual({ ...submitted, dependsOn: [...submitted.dependsOn] });
          expect({ state, attempts, workerId }).toEqual({
            state: 'active',
            attempts: 1,
            workerId: 'w1',
          });
          expect(startedAt).toBeGreaterThanOrEqual(now - 50);
        }
        // Progress and a retry: the next attempt sees both.
        expect(await backend.setProgress(queue, lease(claimed[0]!), '{"step":3}')).toBe(true);
        await backend.finish(queue, [retry(claimed[0]!, Date.now() - 1)]);
        const [again] = await claimAll(1);
        expect(again!.task).toMatchObject({
          id: a.id,
          attempts: 2,
          error: ERROR,
          progress: '{"step":3}',
          payload: a.payload,
          maxRetries: 5,
        });
      });

      it('marks a claimed task active with its worker, token and lease, its attempt counted once started', async () => {
        const t = task();
        await backend.add([t]);
        const before = Date.now();
        const claimed = await claimOne('worker-7', 5_000);
        const after = Date.now();
        // The number the attempt will have; it is not spent until its start is recorded.
        expect(claimed.task).toMatchObject({ id: t.id, state: 'active', attempts: 1 });
        expect(typeof claimed.token).toBe('string');
        expect(claimed.token.length).toBeGreaterThan(0);
        expect(claimed.leaseUntil).toBeGreaterThanOrEqual(before + 5_000 - 50);
        expect(claimed.leaseUntil).toBeLessThanOrEqual(after + 5_000 + 50);
        expect(await backend.get(queue, t.id)).toMatchObject({
          state: 'active',
          attempts: 0,
          workerId: 'worker-7',
        });
        expect(await backend.finish(queue, [], [lease(claimed)])).toEqual([]);
        const started = Date.now();
        const record = await backend.get(queue, t.id);
        expect(record).toMatchObject({ state: 'active', attempts: 1, workerId: 'worker-7' });
        expect(record!.startedAt).toBeGreaterThanOrEqual(before - 50);
        expect(record!.startedAt).toBeLessThanOrEqual(started + 50);
        // Recorded once: a second report changes nothing.
        await backend.finish(queue, [], [lease(claimed)]);
        expect((await backend.get(queue, t.id))?.attempts).toBe(1);
        const counts = await backend.counts(queue);
        expect(counts).toMatchObject({ waiting: 0, active: 1 });
      });

      it('counts the attempt of an outcome whose start was never reported', async () => {
        const t = task();
        await backend.add([t]);
        const claimed = await claimOne();
        const [result] = await backend.finish(queue, [complete(claimed, '"ok"')]);
        expect(result?.accepted).toBe(true);
        expect(await backend.get(queue, t.id)).toMatchObject({ state: 'completed', attempts: 1 });
      });

      it('never hands one task to two workers claiming at the same time', async () => {
        await backend.add(Array.from({ length: 40 }, () => task()));
        const claimers = [backend, second ?? backend, backend, second ?? backend];
        const results = await Promise.all(
          claimers.map((b, i) => b.claim(queue, `w${i}`, 15, 30_000)),
        );
        const ids = results.flat().map((c) => c.task.id);
        expect(ids).toHaveLength(40);
        expect(new Set(ids).size).toBe(40);
        const tokens = results.flat().map((c) => c.token);
        expect(new Set(tokens).size).toBe(40);
      });
    });

    describe('leases', () => {
      it('recovers an expired lease and fences the late worker out', async () => {
        const t = task();
        await backend.add([t]);
        const stale = await claimOne('w1', 150);
        await backend.finish(queue, [], [lease(stale)]);
        await sleep(220);
        expect(await backend.recoverExpired(queue, Date.now())).toBe(1);
        expect((await backend.get(queue, t.id))?.state).toBe('waiting');
        const fresh = await claimOne('w2', 30_000);
        expect(fresh.task.id).toBe(t.id);
        expect(fresh.task.attempts).toBe(2);
        expect(fresh.token).not.toBe(stale.token);

        expect(await backend.setProgress(queue, lease(stale), '50')).toBe(false);
        expect(await backend.renewLeases(queue, [lease(stale)], 30_000)).toEqual([t.id]);
        const [late] = await backend.finish(queue, [complete(stale, '"late"')]);
        expect(late).toMatchObject({ id: t.id, accepted: false });
        expect((await backend.get(queue, t.id))?.state).toBe('active');
        expect((await backend.get(queue, t.id))?.workerId).toBe('w2');

        const [ok] = await backend.finish(queue, [complete(fresh, '"fresh"')]);
        expect(ok?.accepted).toBe(true);
        expect((await backend.get(queue, t.id))?.result).toBe('"fresh"');
      });

      it('gives back an expired lease that never started without spending its attempt', async () => {
        const t = task({ maxRetries: 0 });
        await backend.add([t]);
        await claimOne('w1', 100);
        await sleep(180);
        expect(await backend.recoverExpired(queue, Date.now())).toBe(1);
        expect(await backend.get(queue, t.id)).toMatchObject({ state: 'waiting', attempts: 0 });
        const again = await claimOne('w2', 30_000);
        expect(again.task).toMatchObject({ id: t.id, attempts: 1 });
      });

      it('sends a task lost again and again before any start to the dead letter queue', async () => {
        const t = task();
        await backend.add([t]);
        for (let loss = 1; loss <= UNSTARTED_DELIVERIES.limit; loss++) {
          const claimed = await claimOne('w1', 30);
          expect(claimed.task.attempts).toBe(1);
          await sleep(60);
          await backend.recoverExpired(queue, Date.now());
        }
        const record = await backend.get(queue, t.id);
        expect(record).toMatchObject({ state: 'dead', attempts: 0 });
        expect(record?.error).toMatchObject({
          name: UNSTARTED_DELIVERIES.name,
          code: UNSTARTED_DELIVERIES.code,
        });
        expect((await backend.counts(queue)).dead).toBe(1);
        expect(await claimAll()).toEqual([]);
      });

      it('gives a started attempt back on release without counting it', async () => {
        const t = task();
        await backend.add([t]);
        const claimed = await claimOne();
        await backend.finish(queue, [], [lease(claimed)]);
        expect((await backend.get(queue, t.id))?.attempts).toBe(1);
        await backend.release(queue, [lease(claimed)]);
        expect(await backend.get(queue, t.id)).toMatchObject({ state: 'waiting', attempts: 0 });
        expect((await claimOne()).task.attempts).toBe(1);
      });

      it('leaves leases that have not expired alone', async () => {
        await backend.add([task()]);
        await claimOne('w1', 30_000);
        expect(await backend.recoverExpired(queue, Date.now())).toBe(0);
        expect(await claimAll()).toEqual([]);
      });

      it('renews held leases so they outlive their first term', async () => {
        const t = task();
        await backend.add([t]);
        const claimed = await claimOne('w1', 200);
        await sleep(120);
        expect(await backend.renewLeases(queue, [lease(claimed)], 1_000)).toEqual([]);
        await sleep(200);
        expect(await backend.recoverExpired(queue, Date.now())).toBe(0);
        expect((await backend.get(queue, t.id))?.state).toBe('active');
        const [result] = await backend.finish(queue, [complete(claimed)]);
        expect(result?.accepted).toBe(true);
      });

      it('reports unknown, finished and foreign leases as lost on renewal', async () => {
        const [a, b, c] = [task(), task(), task()];
        await backend.add([a, b, c]);
        const [ca, cb, cc] = await claimAll(3);
        await backend.finish(queue, [complete(ca!)]);
        const lost = await backend.renewLeases(
          queue,
          [
            lease(ca!),
            { id: cb!.task.id, token: 'not-the-token' },
            { id: 'unknown', token: 'x' },
            lease(cc!),
          ],
          30_000,
        );
        expect([...lost].sort()).toEqual([a.id, b.id, 'unknown'].sort());
        // A wrong token neither renews nor takes the task away from its holder.
        expect((await backend.get(queue, b.id))?.state).toBe('active');
        expect((await backend.finish(queue, [complete(cb!)]))[0]?.accepted).toBe(true);
        expect((await backend.finish(queue, [complete(cc!)]))[0]?.accepted).toBe(true);
      });

      it('gives released tasks back at once without counting the attempt', async () => {
        const [a, b] = [task(), task()];
        await backend.add([a, b]);
        const claimed = await claimAll(2);
        await backend.release(queue, claimed.map(lease));
        const ra = await backend.get(queue, a.id);
        expect(ra).toMatchObject({ state: 'waiting', attempts: 0 });
        const again = await claimAll(2);
        expect(again.map((c) => c.task.id)).toEqual([a.id, b.id]);
        expect(again.map((c) => c.task.attempts)).toEqual([1, 1]);
      });

      it('ignores a release under a lost lease', async () => {
        await backend.add([task()]);
        const stale = await claimOne('w1', 100);
        await sleep(160);
        await backend.recoverExpired(queue, Date.now());
        const fresh = await claimOne('w2');
        await backend.release(queue, [lease(stale)]);
        expect((await backend.get(queue, fresh.task.id))?.state).toBe('active');
        expect((await backend.get(queue, fresh.task.id))?.workerId).toBe('w2');
      });

      it('stores progress under the held lease', async () => {
        const t = task();
        await backend.add([t]);
        const claimed = await claimOne();
        expect(await backend.setProgress(queue, lease(claimed), '{"done":3,"of":10}')).toBe(true);
        expect((await backend.get(queue, t.id))?.progress).toBe('{"done":3,"of":10}');
        expect(await backend.setProgress(queue, { id: t.id, token: 'nope' }, '1')).toBe(false);
        expect((await backend.get(queue, t.id))?.progress).toBe('{"done":3,"of":10}');
      });
    });

    describe('finish', () => {
      it('records a completion with its result', async () => {
        const t = task();
        await backend.add([t]);
        const claimed = await claimOne();
        const finishedAt = Date.now();
        const [result] = await backend.finish(queue, [
          { kind: 'completed', id: t.id, token: claimed.token, result: '{"sum":3}', finishedAt },
        ]);
        expect(result).toMatchObject({ id: t.id, accepted: true });
        const record = await backend.get(queue, t.id);
        expect(record).toMatchObject({
          state: 'completed',
          attempts: 1,
          result: '{"sum":3}',
          finishedAt,
        });
        const counts = await backend.counts(queue);
        expect(counts).toMatchObject({ active: 0, completed: 1, waiting: 0 });
      });

      it('records a completion without a result', async () => {
        const t = task();
        await backend.add([t]);
        await backend.finish(queue, [complete(await claimOne(), undefined)]);
        const record = await backend.get(queue, t.id);
        expect(record?.state).toBe('completed');
        expect(record?.result).toBeUndefined();
      });

      it('accepts an outcome once: a second report of the same attempt is ignored', async () => {
        const t = task();
        await backend.add([t]);
        const claimed = await claimOne();
        expect((await backend.finish(queue, [complete(claimed, '1')]))[0]?.accepted).toBe(true);
        expect((await backend.finish(queue, [dead(claimed)]))[0]?.accepted).toBe(false);
        expect((await backend.get(queue, t.id))?.state).toBe('completed');
      });

      it('ignores an outcome for an unknown task', async () => {
        const [result] = await backend.finish(queue, [
          { kind: 'completed', id: 'ghost', token: 'x', result: undefined, finishedAt: Date.now() },
        ]);
        expect(result).toMatchObject({ id: 'ghost', accepted: false });
      });

      it('delays a retry until its time, keeping the error, then counts the next attempt', async () => {
        const t = task();
        await backend.add([t]);
        const claimed = await claimOne();
        await backend.finish(queue, [retry(claimed, Date.now() + 250)]);
        const record = await backend.get(queue, t.id);
        expect(record).toMatchObject({ state: 'delayed', attempts: 1, error: ERROR });
        expect((await backend.counts(queue)).delayed).toBe(1);
        expect(await claimAll()).toEqual([]);
        await sleep(300);
        const next = await claimOne();
        expect(next.task).toMatchObject({ id: t.id, attempts: 2, state: 'active' });
      });

      it('makes a retry due now ready at once', async () => {
        const t = task();
        await backend.add([t]);
        await backend.finish(queue, [retry(await claimOne(), Date.now() - 1)]);
        expect((await claimOne()).task.id).toBe(t.id);
      });

      it('moves a dead task to the dead letter queue with its error', async () => {
        const t = task();
        await backend.add([t]);
        await backend.finish(queue, [dead(await claimOne())]);
        const record = await backend.get(queue, t.id);
        expect(record).toMatchObject({
          state: 'dead',
          attempts: 1,
          error: ERROR,
          payload: t.payload,
        });
        expect(record!.finishedAt).toBeGreaterThan(0);
        expect((await backend.counts(queue)).dead).toBe(1);
        expect((await backend.listDead(queue, 0, 10)).map((r) => r.id)).toEqual([t.id]);
      });

      it('records many outcomes of one queue in one call, in order', async () => {
        const batch = Array.from({ length: 6 }, () => task());
        await backend.add(batch);
        const claimed = await claimAll(6);
        const outcomes = claimed.map((c, i) =>
          i % 3 === 0 ? complete(c, `${i}`) : i % 3 === 1 ? retry(c, Date.now() + 60_000) : dead(c),
        );
        const results = await backend.finish(queue, outcomes);
        expect(results.map((r) => r.id)).toEqual(claimed.map((c) => c.task.id));
        expect(results.every((r) => r.accepted)).toBe(true);
        const states = await Promise.all(
          batch.map(async (t) => (await backend.get(queue, t.id))?.state),
        );
        expect(states).toEqual(['completed', 'delayed', 'dead', 'completed', 'delayed', 'dead']);
        expect(await backend.counts(queue)).toMatchObject({
          completed: 2,
          delayed: 2,
          dead: 2,
          active: 0,
        });
      });
    });

    describe('dependencies', () => {
      it('blocks a dependent until its dependency completes, then releases it', async () => {
        const a = task();
        const b = task({ dependsOn: [a.id], priority: 0 });
        const outcomes = await backend.add([a, b]);
        expect(outcomes.map((o) => o.state)).toEqual(['waiting', 'blocked']);
        const blocked = await backend.get(queue, b.id);
        expect(blocked?.state).toBe('blocked');
        expect([...(blocked?.pendingDependencies ?? [])]).toEqual([a.id]);
        expect((await backend.counts(queue)).blocked).toBe(1);
        const first = await claimAll();
        expect(first.map((c) => c.task.id)).toEqual([a.id]);
        const [result] = await backend.finish(queue, [complete(first[0]!)]);
        expect(result?.released).toEqual([b.id]);
        expect((await backend.get(queue, b.id))?.state).toBe('waiting');
        expect((await claimOne()).task.id).toBe(b.id);
      });

      it('waits for every dependency', async () => {
        const a = task();
        const b = task();
        const c = task({ dependsOn: [a.id, b.id] });
        await backend.add([a, b, c]);
        await run(a.id, 'completed');
        const half = await backend.get(queue, c.id);
        expect(half?.state).toBe('blocked');
        expect([...(half?.pendingDependencies ?? [])]).toEqual([b.id]);
        const result = await run(b.id, 'completed');
        expect(result.released).toEqual([c.id]);
        expect((await claimOne()).task.id).toBe(c.id);
      });

      it('accepts dependencies added in an earlier call', async () => {
        const a = task();
        await backend.add([a]);
        const b = task({ dependsOn: [a.id] });
        expect((await backend.add([b]))[0]?.state).toBe('blocked');
        await run(a.id, 'completed');
        expect((await backend.get(queue, b.id))?.state).toBe('waiting');
      });

      it('counts dependencies already complete at submit time as complete', async () => {
        const a = task();
        await backend.add([a]);
        await run(a.id, 'completed');
        const b = task({ dependsOn: [a.id] });
        expect(await backend.add([b])).toEqual([{ id: b.id, created: true, state: 'waiting' }]);
        expect((await claimOne()).task.id).toBe(b.id);
      });

      it('kills dependents, transitively, when a dependency ends dead', async () => {
        const a = task();
        const b = task({ dependsOn: [a.id] });
        const c = task({ dependsOn: [b.id] });
        await backend.add([a, b, c]);
        const result = await run(a.id, 'dead');
        expect(result.killed).toContain(b.id);
        const rb = await backend.get(queue, b.id);
        expect(rb?.state).toBe('dead');
        expect(rb?.error?.name).toBe('TaskDependencyError');
        expect(rb?.error?.code).toBe('E_TASK_DEPENDENCY');
        expect(rb?.error?.message).toContain(a.id);
        expect(rb?.attempts).toBe(0);
        expect(rb?.finishedAt).toBeGreaterThan(0);
        await eventually(
          async () => (await backend.get(queue, c.id))?.state === 'dead',
          'the grandchild to die',
        );
        expect((await backend.get(queue, c.id))?.error?.message).toContain(b.id);
        expect(await backend.counts(queue)).toMatchObject({ blocked: 0, dead: 3 });
        const deadIds = (await backend.listDead(queue, 0, 10)).map((r) => r.id);
        expect(deadIds.sort()).toEqual([a.id, b.id, c.id].sort());
      });

      it('runs a dependent anyway after a dead dependency when failOnDependencyFailure is false', async () => {
        const a = task();
        const b = task({ dependsOn: [a.id], failOnDependencyFailure: false });
        await backend.add([a, b]);
        const result = await run(a.id, 'dead');
        expect(result.released).toEqual([b.id]);
        expect(result.killed ?? []).toEqual([]);
        expect((await claimOne()).task.id).toBe(b.id);
      });

      it('kills a dependent added after its dependency died, unless told otherwise', async () => {
        const a = task();
        await backend.add([a]);
        await run(a.id, 'dead');
        const b = task({ dependsOn: [a.id] });
        const c = task({ dependsOn: [a.id], failOnDependencyFailure: false });
        const outcomes = await backend.add([b, c]);
        expect(outcomes.map((o) => o.state)).toEqual(['dead', 'waiting']);
        expect((await backend.get(queue, b.id))?.error?.message).toContain(a.id);
      });

      it('treats a cancelled dependency like a dead one', async () => {
        const a = task();
        const b = task({ dependsOn: [a.id] });
        const c = task({ dependsOn: [a.id], failOnDependencyFailure: false });
        await backend.add([a, b, c]);
        expect(await backend.cancel(queue, a.id)).toBe(true);
        expect((await backend.get(queue, b.id))?.state).toBe('dead');
        expect((await backend.get(queue, b.id))?.error?.code).toBe('E_TASK_DEPENDENCY');
        expect((await backend.get(queue, c.id))?.state).toBe('waiting');
      });

      it('rejects an unknown dependency without storing anything of the call', async () => {
        const a = task();
        const b = task({ dependsOn: ['no-such-task'] });
        await expect(backend.add([a, b])).rejects.toMatchObject({ code: 'E_TASK_DEPENDENCY' });
        expect(await backend.get(queue, a.id)).toBeUndefined();
        expect(await backend.get(queue, b.id)).toBeUndefined();
        expect(await backend.counts(queue)).toMatchObject({ waiting: 0, blocked: 0 });
        expect(await claimAll()).toEqual([]);
      });

      it('forgets a cancelled dependent when its dependency completes', async () => {
        const a = task();
        const b = task({ dependsOn: [a.id] });
        await backend.add([a, b]);
        expect(await backend.cancel(queue, b.id)).toBe(true);
        const result = await run(a.id, 'completed');
        expect(result.released ?? []).toEqual([]);
        expect((await backend.get(queue, b.id))?.state).toBe('cancelled');
      });

      it('releases a dependent on completion even after a retry of the dependency', async () => {
        const a = task();
        const b = task({ dependsOn: [a.id] });
        await backend.add([a, b]);
        await backend.finish(queue, [retry(await claimOne(), Date.now() - 1)]);
        expect((await backend.get(queue, b.id))?.state).toBe('blocked');
        await run(a.id, 'completed');
        expect((await backend.get(queue, b.id))?.state).toBe('waiting');
      });
    });

    describe('cancel', () => {
      it('cancels waiting, delayed and blocked tasks', async () => {
        const w = task();
        const d = task({ runAt: Date.now() + 60_000 });
        const b = task({ dependsOn: [w.id], failOnDependencyFailure: false });
        await backend.add([w, d, b]);
        expect(await backend.cancel(queue, d.id)).toBe(true);
        expect(await backend.cancel(queue, b.id)).toBe(true);
        expect(await backend.cancel(queue, w.id)).toBe(true);
        for (const id of [w.id, d.id, b.id]) {
          const record = await backend.get(queue, id);
          expect(record?.state).toBe('cancelled');
          expect(record?.finishedAt).toBeGreaterThan(0);
        }
        expect(await claimAll()).toEqual([]);
        expect(await backend.counts(queue)).toMatchObject({
          waiting: 0,
          delayed: 0,
          blocked: 0,
          active: 0,
        });
      });

      it('does not cancel active, finished or unknown tasks', async () => {
        const [a, b] = [task(), task()];
        await backend.add([a, b]);
        const claimed = await claimAll(2);
        await backend.finish(queue, [complete(claimed[1]!)]);
        expect(await backend.cancel(queue, a.id)).toBe(false);
        expect(await backend.cancel(queue, b.id)).toBe(false);
        expect(await backend.cancel(queue, 'unknown')).toBe(false);
        expect((await backend.get(queue, a.id))?.state).toBe('active');
        expect(await backend.cancel(queue, a.id)).toBe(false);
      });

      it('does not cancel twice', async () => {
        const t = task();
        await backend.add([t]);
        expect(await backend.cancel(queue, t.id)).toBe(true);
        expect(await backend.cancel(queue, t.id)).toBe(false);
      });
    });

    describe('counts', () => {
      it('counts an unknown queue as empty and not paused', async () => {
        expect(await backend.counts(`${queue}.b`)).toEqual({
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
        await backend.add([a, b, late]);
        expect((await backend.counts(queue)).oldestWaitingAt).toBe(now - 5_000);
        await claimOne();
        expect((await backend.counts(queue)).oldestWaitingAt).toBe(now - 1_000);
        await claimOne();
        expect((await backend.counts(queue)).oldestWaitingAt).toBeUndefined();
      });

      it('counts every state', async () => {
        const ready = task();
        const delayed = task({ runAt: Date.now() + 60_000 });
        const blocked = task({ dependsOn: [ready.id] });
        const active = task({ priority: 0 });
        await backend.add([ready, delayed, blocked, active]);
        await claimOne();
        expect(await backend.counts(queue)).toMatchObject({
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

    describe('retention', () => {
      it('keeps at most the configured number of completed and dead tasks, oldest removed first', async () => {
        await use({
          retention: {
            completed: { count: 2, ageMs: 3_600_000 },
            dead: { count: 1, ageMs: 3_600_000 },
          },
        });
        const done = Array.from({ length: 4 }, () => task());
        const failed = Array.from({ length: 3 }, () => task({ priority: 99 }));
        await backend.add([...done, ...failed]);
        for (const t of done) await run(t.id, 'completed');
        for (const t of failed) await run(t.id, 'dead');
        const kept = await Promise.all(done.map((t) => backend.get(queue, t.id)));
        expect(kept.map((r) => r?.state)).toEqual([undefined, undefined, 'completed', 'completed']);
        const keptDead = await Promise.all(failed.map((t) => backend.get(queue, t.id)));
        expect(keptDead.map((r) => r?.state)).toEqual([undefined, undefined, 'dead']);
        expect(await backend.counts(queue)).toMatchObject({ completed: 2, dead: 1 });
        expect((await backend.listDead(queue, 0, 10)).map((r) => r.id)).toEqual([failed[2]!.id]);
      });

      it('removes finished tasks older than the configured age', async () => {
        await use({
          retention: {
            completed: { count: 1_000, ageMs: 150 },
            dead: { count: 1_000, ageMs: 150 },
          },
        });
        const [a, b, c, d] = [task(), task(), task(), task()];
        await backend.add([a, b, c, d]);
        await run(a.id, 'completed');
        await run(b.id, 'dead');
        await sleep(250);
        await run(c.id, 'completed');
        await run(d.id, 'dead');
        expect(await backend.get(queue, a.id)).toBeUndefined();
        expect(await backend.get(queue, b.id)).toBeUndefined();
        expect((await backend.get(queue, c.id))?.state).toBe('completed');
        expect((await backend.get(queue, d.id))?.state).toBe('dead');
        expect(await backend.counts(queue)).toMatchObject({ completed: 1, dead: 1 });
      });

      it('keeps tasks dead at submission within the dead bound too', async () => {
        await use({
          retention: {
            completed: { count: 10, ageMs: 3_600_000 },
            dead: { count: 2, ageMs: 3_600_000 },
          },
        });
        const failed = task();
        await backend.add([failed]);
        expect(await backend.cancel(queue, failed.id)).toBe(true);
        // Each of these dies on arrival: its dependency was cancelled.
        for (let i = 0; i < 6; i++) {
          const [outcome] = await backend.add([task({ dependsOn: [failed.id] })]);
          expect(outcome?.state).toBe('dead');
        }
        expect((await backend.counts(queue)).dead).toBeLessThanOrEqual(2);
        expect((await backend.listDead(queue, 0, 100)).length).toBeLessThanOrEqual(2);
      });

      it('keeps an id taken for uniqueForMs even once its task was removed', async () => {
        await use({
          retention: {
            completed: { count: 1, ageMs: 3_600_000 },
            dead: { count: 1, ageMs: 3_600_000 },
          },
        });
        const once = task({ id: `once-${randomUUID()}`, uniqueForMs: 60_000 });
        const plain = task({ id: `plain-${randomUUID()}` });
        await backend.add([once, plain]);
        await run(once.id, 'completed');
        await run(plain.id, 'completed');
        // Both pushed out by retention.
        const filler = task();
        await backend.add([filler]);
        await run(filler.id, 'completed');
        expect(await backend.get(queue, once.id)).toBeUndefined();
        expect(await backend.get(queue, plain.id)).toBeUndefined();
        const [again] = await backend.add([{ ...once, createdAt: Date.now() }]);
        expect(again?.created).toBe(false);
        expect(await backend.get(queue, once.id)).toBeUndefined();
        const [plainAgain] = await backend.add([{ ...plain, createdAt: Date.now() }]);
        expect(plainAgain?.created).toBe(true);
      });

      it('frees an id kept by uniqueForMs once that time has passed', async () => {
        const once = task({ uniqueForMs: 100 });
        await backend.add([once]);
        await backend.cancel(queue, once.id);
        await sleep(150);
        await backend.purgeDead(queue);
        // Cancelled tasks stay stored until retention: the id is still the task's.
        const [again] = await backend.add([{ ...once }]);
        expect(again).toMatchObject({ created: false, state: 'cancelled' });
      });
    });

    describe('subscribe', () => {
      it('tells subscribers, in this process and others, what happened to tasks', async () => {
        const heard: TaskBackendEvent[] = [];
        const heardElsewhere: TaskBackendEvent[] = [];
        const off = backend.subscribe((event) => heard.push(event));
        const offElsewhere = second?.subscribe((event) => heardElsewhere.push(event));
        // A remote subscription may take a moment to be in place.
        await sleep(100);
        const [ok, again, bad, cancelled] = [
          task({ name: 'a' }),
          task({ name: 'b' }),
          task({ name: 'c' }),
          task({ name: 'd', runAt: Date.now() + 60_000 }),
        ];
        await backend.add([ok, again, bad, cancelled]);
        const [cOk, cAgain, cBad] = await claimAll(3);
        await backend.setProgress(queue, lease(cOk!), '0.5');
        await backend.finish(queue, [
          complete(cOk!),
          retry(cAgain!, Date.now() + 60_000),
          dead(cBad!),
        ]);
        await backend.cancel(queue, cancelled.id);
        const expected: TaskBackendEvent[] = [
          { type: 'progress', queue, id: ok.id, name: 'a' },
          { type: 'completed', queue, id: ok.id, name: 'a' },
          { type: 'retry', queue, id: again.id, name: 'b' },
          { type: 'dead', queue, id: bad.id, name: 'c' },
          { type: 'cancelled', queue, id: cancelled.id, name: 'd' },
        ];
        const key = (e: TaskBackendEvent) => `${e.type}:${e.id}`;
        await eventually(() => heard.length >= expected.length, 'events');
        expect(heard.map(key).sort()).toEqual(expected.map(key).sort());
        for (const event of expected) {
          expect(heard).toContainEqual(expect.objectContaining(event));
        }
        if (second !== undefined) {
          await eventually(() => heardElsewhere.length >= expected.length, 'events elsewhere');
          expect(heardElsewhere.map(key).sort()).toEqual(expected.map(key).sort());
        }
        off();
        offElsewhere?.();
        const after = task();
        await backend.add([after]);
        await backend.finish(queue, [complete(await claimOne())]);
        await sleep(150);
        expect(heard).toHaveLength(expected.length);
        expect(heardElsewhere).toHaveLength(second === undefined ? 0 : expected.length);
      });

      it('announces dependents killed by a dead dependency', async () => {
        const heard: TaskBackendEvent[] = [];
        const off = backend.subscribe((event) => heard.push(event));
        await sleep(100);
        const a = task();
        const b = task({ dependsOn: [a.id], name: 'child' });
        await backend.add([a, b]);
        await run(a.id, 'dead');
        await eventually(
          () => heard.some((e) => e.id === b.id && e.type === 'dead'),
          'the dependent to be announced dead',
        );
        expect(heard).toContainEqual({ type: 'dead', queue, id: b.id, name: 'child' });
        off();
      });
    });

    describe('waitForWork', () => {
      it('wakes up when a task is added', async () => {
        const controller = new AbortController();
        const started = Date.now();
        const waiting = backend.waitForWork(queue, 5_000, controller.signal);
        await sleep(50);
        await (second ?? backend).add([task()]);
        await waiting;
        expect(Date.now() - started).toBeLessThan(2_500);
      });

      it('wakes up when a delayed task becomes due', async () => {
        const controller = new AbortController();
        await backend.add([task({ runAt: Date.now() + 200 })]);
        const started = Date.now();
        await backend.waitForWork(queue, 5_000, controller.signal);
        expect(Date.now() - started).toBeLessThan(2_500);
      });

      it('returns after the timeout when nothing happens', async () => {
        const controller = new AbortController();
        const started = Date.now();
        await backend.waitForWork(queue, 150, controller.signal);
        const elapsed = Date.now() - started;
        expect(elapsed).toBeGreaterThanOrEqual(100);
        expect(elapsed).toBeLessThan(2_000);
      });

      it('returns at once when the signal aborts', async () => {
        const controller = new AbortController();
        const started = Date.now();
        const waiting = backend.waitForWork(queue, 10_000, controller.signal);
        await sleep(30);
        controller.abort();
        await waiting;
        expect(Date.now() - started).toBeLessThan(1_000);
        const already = new AbortController();
        already.abort();
        const t0 = Date.now();
        await backend.waitForWork(queue, 10_000, already.signal);
        expect(Date.now() - t0).toBeLessThan(500);
      });
    });

    describe('close', () => {
      it('can be called more than once', async () => {
        await backend.close();
        await expect(backend.close()).resolves.toBeUndefined();
      });
    });
  });
}

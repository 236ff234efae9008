import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Duration } from '../../../src/core/duration.js';
import { createEnterprise, type Enterprise, type TaskOptions } from '../../../src/index.js';
import {
  type SandboxOptions,
  type TaskBackend,
  TaskFailedError,
  type TaskInfo,
} from '../../../src/tasks/index.js';
import { eventually } from '../pool-helpers.js';

/** A fixture of tests/fixtures/sandbox as a file URL. */
export const fixture = (name: string): URL =>
  new URL(`../../fixtures/sandbox/${name}`, import.meta.url);
export const fixturePath = (name: string): string => fileURLToPath(fixture(name));

/** What each backend gives the suite: a fresh backend per instance, and its cleanup. */
export interface SuiteBackend {
  make(): TaskBackend | undefined;
  cleanup(): Promise<void>;
}

/** The dead task's recorded error, once `waitFor` rejected. */
export async function failure(e: Enterprise, id: string): Promise<TaskInfo> {
  await expect(e.tasks.waitFor(id, { timeout: 20 })).rejects.toBeInstanceOf(TaskFailedError);
  const info = await e.tasks.get(id);
  expect(info?.state).toBe('dead');
  return info!;
}

/**
 * Sandboxed handlers through the whole engine (submit, claim, run in a worker thread or child
 * process, record), on one backend. Each handler is a real file in tests/fixtures/sandbox.
 */
export function describeSandboxedTasks(label: string, backend: SuiteBackend): void {
  const instances: Enterprise[] = [];

  function make(tasks: TaskOptions = {}): Enterprise {
    const enterprise = createEnterprise({
      logLevel: 'silent',
      env: {},
      performance: { systemMetrics: false },
      tasks: {
        backend: backend.make(),
        backoff: { delay: '10ms', jitter: 0 },
        ...tasks,
      },
    });
    instances.push(enterprise);
    return enterprise;
  }

  async function started(
    name: string,
    sandbox: SandboxOptions,
    options: { maxRetries?: number; timeout?: Duration } = {},
  ): Promise<Enterprise> {
    const e = make();
    e.tasks.register(name, { sandbox, maxRetries: 0, ...options });
    await e.start();
    return e;
  }

  afterEach(async () => {
    await Promise.all(instances.splice(0).map((e) => e.shutdown()));
    await backend.cleanup();
  });

  describe.each(['thread', 'process'] as const)(`sandboxed handlers (${label}, %s)`, (kind) => {
    it('runs the default export off the main thread with the payload and the context', async () => {
      const e = await started('sbx_ok', { file: fixture('ok.mjs'), kind, poolSize: 1 });
      const id = await e.tasks.submit('sbx_ok', { n: 21 });
      const info = await e.tasks.waitFor(id, { timeout: 20 });
      expect(info.result).toMatchObject({ doubled: 42, id, name: 'sbx_ok', attempt: 1 });
      const where = info.result as { threadId: number; pid: number };
      if (kind === 'thread') {
        expect(where.threadId).toBeGreaterThan(0);
        expect(where.pid).toBe(process.pid);
      } else {
        expect(where.pid).not.toBe(process.pid);
      }
    });

    it('ctx.rateLimited in the sandbox hands the task back without spending an attempt', async () => {
      const e = await started('sbx_limited', {
        file: fixture('rate-limited.mjs'),
        kind,
        poolSize: 1,
      });
      const id = await e.tasks.submit('sbx_limited', {});
      const started_ = Date.now();
      const info = await e.tasks.waitFor(id, { timeout: 20 });
      // maxRetries is 0: a spent attempt would have made the task dead.
      expect(info.result).toEqual({ attempt: 1, calls: 2 });
      expect(Date.now() - started_).toBeGreaterThanOrEqual(140);
    });

    it('runs a CommonJS handler (module.exports)', async () => {
      const e = await started('sbx_cjs', { file: fixture('ok.cjs'), kind });
      const id = await e.tasks.submit('sbx_cjs', { a: 2, b: 3 });
      expect((await e.tasks.waitFor(id, { timeout: 20 })).result).toMatchObject({ sum: 5 });
    });

    it('a handler that throws fails its attempt, is retried, and keeps its name and code', async () => {
      const e = await started(
        'sbx_throws',
        { file: fixture('throws.mjs'), kind },
        { maxRetries: 3 },
      );
      const failed: { attempt: number; name: string; code?: string }[] = [];
      e.tasks.on('failed', (event) =>
        failed.push({ attempt: event.attempt, name: event.error.name, code: event.error.code }),
      );
      const id = await e.tasks.submit('sbx_throws', { succeedOn: 3 });
      const info = await e.tasks.waitFor(id, { timeout: 20 });
      expect(info.result).toBe('ok on attempt 3');
      expect(failed).toEqual([
        { attempt: 1, name: 'RangeError', code: 'E_FIXTURE' },
        { attempt: 2, name: 'RangeError', code: 'E_FIXTURE' },
      ]);
    });

    it('reports progress to the main thread (event and stored value) and logs', async () => {
      const e = await started('sbx_progress', { file: fixture('progress.mjs'), kind });
      const seen: unknown[] = [];
      e.tasks.on('progress', (event) => seen.push(event.progress));
      const id = await e.tasks.submit('sbx_progress', { label: 'job' });
      const info = await e.tasks.waitFor(id, { timeout: 20 });
      expect(info.result).toBe('reported');
      expect(seen).toEqual([
        { step: 1, of: 3 },
        { step: 2, of: 3 },
        { step: 3, of: 3 },
      ]);
      expect(info.progress).toEqual({ step: 3, of: 3 });
    });

    it('a timeout terminates a stuck handler; the pool replaces it and goes on', async () => {
      const e = await started(
        'sbx_hang',
        { file: fixture('hang.mjs'), kind, poolSize: 1, abortGrace: '100ms' },
        { timeout: '2s' },
      );
      e.tasks.register('sbx_after_hang', {
        sandbox: { file: fixture('ok.mjs'), kind, poolSize: 1 },
      });
      const where = new Set<string>();
      e.tasks.on('progress', (event) => {
        const p = event.progress as { threadId: number; pid: number };
        where.add(`${p.pid}:${p.threadId}`);
      });
      const hung = await e.tasks.submit('sbx_hang', {});
      const info = await failure(e, hung);
      expect(info.error).toMatchObject({ name: 'TaskTimeoutError', code: 'E_TASK_TIMEOUT' });
      // The stuck one is gone: the same task kind runs again in a new thread or process.
      const again = await e.tasks.submit('sbx_hang', {});
      const second = await failure(e, again);
      expect(second.error?.code).toBe('E_TASK_TIMEOUT');
      expect(where.size).toBe(2);
      const ok = await e.tasks.submit('sbx_after_hang', { n: 1 });
      expect((await e.tasks.waitFor(ok, { timeout: 20 })).result).toMatchObject({ doubled: 2 });
    });

    it('a handler that calls process.exit fails its attempt, never the process', async () => {
      const e = await started('sbx_exit', { file: fixture('exit.mjs'), kind, poolSize: 1 });
      const id = await e.tasks.submit('sbx_exit', { code: 7 });
      const info = await failure(e, id);
      expect(info.error).toMatchObject({
        name: 'TaskSandboxCrashError',
        code: 'E_TASK_SANDBOX_CRASH',
      });
      expect(info.error?.message).toMatch(/exited with code 7/);
    });

    it('a handler that exhausts its memory limit fails its attempt; the next task runs', async () => {
      const e = await started('sbx_oom', {
        file: fixture('oom.mjs'),
        kind,
        poolSize: 1,
        maxMemoryMb: 32,
      });
      e.tasks.register('sbx_after_oom', { sandbox: { file: fixture('ok.mjs'), kind } });
      const id = await e.tasks.submit('sbx_oom', {});
      const info = await failure(e, id);
      expect(info.error).toMatchObject({
        name: 'TaskSandboxCrashError',
        code: 'E_TASK_SANDBOX_CRASH',
      });
      expect(info.error?.message).toMatch(
        kind === 'thread' ? /ran out of memory/ : /killed by|exited with code/,
      );
      const ok = await e.tasks.submit('sbx_after_oom', { n: 2 });
      expect((await e.tasks.waitFor(ok, { timeout: 20 })).result).toMatchObject({ doubled: 4 });
    });

    it('an error thrown outside the handler promise fails the attempt', async () => {
      const e = await started('sbx_uncaught', { file: fixture('uncaught.mjs'), kind });
      const info = await failure(e, await e.tasks.submit('sbx_uncaught', {}));
      expect(info.error?.code).toBe('E_TASK_SANDBOX_CRASH');
    });

    it('a handler that honours its signal stops in time and keeps its thread', async () => {
      const e = await started(
        'sbx_abortable',
        { file: fixture('abortable.mjs'), kind, poolSize: 1, abortGrace: '20s' },
        // Long enough for a thread to start on a loaded machine (the first task waits for it).
        { timeout: '2s' },
      );
      const where: unknown[] = [];
      e.tasks.on('progress', (event) => where.push(event.progress));
      const first = await e.tasks.submit('sbx_abortable', {});
      expect((await failure(e, first)).error?.code).toBe('E_TASK_TIMEOUT');
      // The handler saw the abort (its reason crossed over), rejected, and freed its thread, which
      // runs the next task: well before the 20 s grace would have terminated it.
      const second = await e.tasks.submit('sbx_abortable', {});
      expect((await failure(e, second)).error?.code).toBe('E_TASK_TIMEOUT');
      expect(where).toHaveLength(2);
      expect(where[0]).toEqual(where[1]);
    });

    it('a file whose default export is not a function fails with TaskSandboxFileError', async () => {
      const e = await started('sbx_nofn', { file: fixture('no-function.mjs'), kind });
      const info = await failure(e, await e.tasks.submit('sbx_nofn', {}));
      expect(info.error).toMatchObject({
        name: 'TaskSandboxFileError',
        code: 'E_TASK_SANDBOX_FILE',
      });
      expect(info.error?.message).toMatch(
        /default export .* is an object with keys handler, not a function/,
      );
    });

    it('a result that cannot cross back fails with TaskSandboxCloneError', async () => {
      const e = await started('sbx_fnresult', { file: fixture('returns-function.mjs'), kind });
      const info = await failure(e, await e.tasks.submit('sbx_fnresult', {}));
      expect(info.error).toMatchObject({
        name: 'TaskSandboxCloneError',
        code: 'E_TASK_SANDBOX_CLONE',
      });
    });

    it('runs tasks in parallel on at most poolSize threads or processes', async () => {
      const e = make({ workerCount: 4, concurrency: { min: 4, max: 4 } });
      e.tasks.register('sbx_parallel', {
        sandbox: { file: fixture('sleep.mjs'), kind, poolSize: 2 },
      });
      await e.start();
      const ids = await e.tasks.submitMany(
        Array.from({ length: 6 }, () => ({ name: 'sbx_parallel', payload: { ms: 300 } })),
      );
      const runs: { where: string; start: number; end: number }[] = [];
      for (const id of ids) {
        runs.push((await e.tasks.waitFor(id, { timeout: 20 })).result as (typeof runs)[number]);
      }
      expect(new Set(runs.map((r) => r.where)).size).toBe(2);
      // Never more than two at once, and at some point two at once.
      const overlapping = (at: number) => runs.filter((r) => r.start <= at && at < r.end).length;
      const peaks = runs.map((r) => overlapping(r.start));
      expect(Math.max(...peaks)).toBe(2);
    });

    it('shutdown terminates a handler that ignores its signal and stops every thread', async () => {
      const e = make({ shutdownTimeout: '200ms' });
      e.tasks.register('sbx_stop', {
        sandbox: { file: fixture('hang.mjs'), kind, abortGrace: '30s' },
      });
      await e.start();
      let started = false;
      e.tasks.on('progress', () => {
        started = true;
      });
      await e.tasks.submit('sbx_stop', {});
      await eventually(() => started, 'the handler started', 20_000);
      const t0 = Date.now();
      await e.shutdown();
      expect(Date.now() - t0).toBeLessThan(10_000);
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  configure,
  type Enterprise,
  getEnterprise,
  InvalidArgumentError,
} from '../../src/index.js';
import {
  BackgroundTask,
  backgroundTask,
  registerTaskHandlers,
  submitTask,
  submitTasks,
  type TaskContext,
  tasks,
  unregisterTask,
} from '../../src/tasks/index.js';

/**
 * `@BackgroundTask`, `backgroundTask()` and `registerTaskHandlers()` in one decorator mode. Compiled
 * once per vitest project: standard decorators from tests/tasks, `experimentalDecorators` from
 * tests/legacy. Task names carry the mode so the two runs never share a registration.
 */
export function describeBackgroundTasks(mode: 'standard' | 'legacy'): void {
  const n = (name: string) => `${mode}_${name}`;

  describe(`background task decorators (${mode})`, () => {
    let enterprise: Enterprise;
    const registered: string[] = [];

    beforeEach(async () => {
      enterprise = configure({
        logLevel: 'silent',
        env: {},
        performance: { systemMetrics: false },
        tasks: { shutdownTimeout: '100ms', backoff: { delay: '10ms', jitter: 0 } },
      });
    });

    afterEach(async () => {
      await getEnterprise().shutdown();
      for (const name of registered.splice(0)) unregisterTask(name);
    });

    /** Declares a class with decorated handlers; its task names are removed after the test. */
    function reportService(tag: string) {
      registered.push(n(`report_${tag}`), n(`static_${tag}`));
      class ReportService {
        constructor(readonly prefix: string) {}

        @BackgroundTask(n(`report_${tag}`), { maxRetries: 0 })
        async generate(payload: { month: string }, context: TaskContext) {
          return `${this.prefix}:${payload.month}:attempt${context.attempt}`;
        }

        @BackgroundTask(n(`static_${tag}`))
        static ping(payload: string) {
          return `pong ${payload}`;
        }
      }
      return ReportService;
    }

    it('runs a decorated method on its instance, with `this`, payload and context', async () => {
      const Service = reportService('a');
      const service = new Service('svc');
      if (mode === 'legacy') expect(registerTaskHandlers(service)).toEqual([n('report_a')]);
      await getEnterprise().start();
      const id = await submitTask(n('report_a'), { month: '2024-01' });
      const info = await tasks.waitFor(id, { timeout: 5 });
      expect(info.result).toBe('svc:2024-01:attempt1');
    });

    it('binds instances automatically under standard decorators, the latest one winning', async () => {
      const Service = reportService('b');
      new Service('first');
      const second = new Service('second');
      if (mode === 'legacy') registerTaskHandlers(second);
      await getEnterprise().start();
      const info = await tasks.waitFor(await submitTask(n('report_b'), { month: 'm' }), {
        timeout: 5,
      });
      expect(info.result).toBe('second:m:attempt1');
    });

    if (mode === 'legacy') {
      it('records a clear failure for a method whose class has no registered instance', async () => {
        reportService('c');
        await getEnterprise().start();
        const id = await submitTask(n('report_c'), { month: 'x' });
        await expect(tasks.waitFor(id, { timeout: 5 })).rejects.toMatchObject({
          code: 'E_TASK_FAILED',
        });
        const dead = await tasks.get(id);
        expect(dead?.error).toMatchObject({ name: 'TaskUnknownError' });
        expect(dead?.error?.message).toContain('registerTaskHandlers');
      });
    }

    it('runs static methods without an instance', async () => {
      reportService('d');
      await getEnterprise().start();
      const info = await tasks.waitFor(await submitTask(n('static_d'), 'ok'), { timeout: 5 });
      expect(info.result).toBe('pong ok');
    });

    it('leaves the method an ordinary method when called directly', async () => {
      const Service = reportService('e');
      const service = new Service('direct');
      const context = { attempt: 9 } as TaskContext;
      expect(await service.generate({ month: 'now' }, context)).toBe('direct:now:attempt9');
      expect(Service.ping('x')).toBe('pong x');
      expect(service.generate.name).toBe('generate');
    });

    it('registers plain functions with backgroundTask() and submits them through .submit()', async () => {
      registered.push(n('double'));
      const double = backgroundTask(n('double'), (value: number) => value * 2, { maxRetries: 1 });
      expect(double(4)).toBe(8);
      expect(double.taskName).toBe(n('double'));
      await getEnterprise().start();
      const id = await double.submit(21);
      expect((await tasks.waitFor(id, { timeout: 5 })).result).toBe(42);
      const ids = await submitTasks([
        { name: n('double'), payload: 1 },
        { name: n('double'), payload: 2 },
      ]);
      const results = await Promise.all(ids.map((i) => tasks.waitFor(i, { timeout: 5 })));
      expect(results.map((r) => r.result)).toEqual([2, 4]);
    });

    it('refuses a second, different handler under a name', () => {
      registered.push(n('taken'));
      backgroundTask(n('taken'), function first() {});
      expect(() => backgroundTask(n('taken'), function second() {})).toThrow(InvalidArgumentError);
      expect(() => {
        class Clash {
          @BackgroundTask(n('taken'))
          handle() {}
        }
        return Clash;
      }).toThrow(/already registered/);
    });

    it('explains a decorator used without parentheses, and bad options', () => {
      expect(() => {
        class Wrong {
          // @ts-expect-error: the factory must be called
          @BackgroundTask
          handle() {}
        }
        return Wrong;
      }).toThrow(/BackgroundTask\(\)/);
      expect(() => BackgroundTask('')).toThrow(InvalidArgumentError);
      expect(() => BackgroundTask(n('bad'), { priority: 500 })).toThrow(/priority/);
      expect(() => backgroundTask(n('bad2'), 'nope' as never)).toThrow(/not a function/);
    });

    it('starts workers on start() of the default instance because handlers are registered', async () => {
      registered.push(n('auto'));
      backgroundTask(n('auto'), () => 'started');
      await enterprise.start();
      const id = await submitTask(n('auto'));
      expect((await tasks.waitFor(id, { timeout: 5 })).result).toBe('started');
    });
  });
}

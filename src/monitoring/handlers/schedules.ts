import { MonitoringRequestError } from '../errors.js';
import { badRequest, jsonBody } from '../request-body.js';
import { jsonResponse as json } from '../responses.js';
import type { HandlerContext, Handlers } from './types.js';

function unknownSchedule(name: string): MonitoringRequestError {
  return new MonitoringRequestError(404, 'E_NOT_FOUND', `no schedule is named "${name}"`);
}

/** A schedule the module refused (bad cron, name taken by code...) is the caller's mistake: 400. */
async function refusedAs400<T>(field: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    if (code === 'E_TASK_SCHEDULE' && typeof message === 'string') throw badRequest(message, field);
    throw error;
  }
}

/**
 * @internal The schedule endpoints: the list (stored schedules read first, so a process that does
 * not run the scheduler still shows every one), add, pause, resume, run now and remove.
 */
export function scheduleHandlers({
  tasks,
  log,
}: HandlerContext): Handlers<
  | 'schedules'
  | 'addSchedule'
  | 'pauseSchedule'
  | 'resumeSchedule'
  | 'runSchedule'
  | 'removeSchedule'
> {
  const scheduleNamed = (name: string) =>
    tasks
      .scheduler()
      .list({ includeRemoved: true })
      .find((s) => (s as { name?: unknown }).name === name);
  const stateAction =
    (verb: 'pause' | 'resume') =>
    async (c: { req: { param(name: string): string | undefined } }) => {
      const name = c.req.param('name') ?? '';
      const scheduler = tasks.scheduler();
      if (!(await scheduler[verb](name))) throw unknownSchedule(name);
      log.info({ action: `${verb}-schedule`, schedule: name }, `schedule ${verb}d from the router`);
      return json({ ok: true, schedule: scheduleNamed(name) });
    };
  return {
    schedules: async () => {
      const scheduler = tasks.scheduler();
      await scheduler.sync();
      return json({ schedules: scheduler.list() });
    },
    addSchedule: async (c) => {
      const body = await jsonBody(c.req.raw, true);
      for (const field of ['name', 'task'] as const) {
        if (typeof body[field] !== 'string') throw badRequest(`${field} must be a string`, field);
      }
      const schedule = await refusedAs400('body', () => tasks.scheduler().add(body));
      log.info({ action: 'add-schedule', schedule: body.name }, 'schedule added from the router');
      return json({ ok: true, schedule }, 201);
    },
    pauseSchedule: stateAction('pause'),
    resumeSchedule: stateAction('resume'),
    runSchedule: async (c) => {
      const name = c.req.param('name') ?? '';
      const scheduler = tasks.scheduler();
      await scheduler.sync();
      if (scheduleNamed(name) === undefined) throw unknownSchedule(name);
      const taskId = await scheduler.runNow(name);
      log.info({ action: 'run-schedule', schedule: name, taskId }, 'schedule run from the router');
      return json({ ok: true, schedule: scheduleNamed(name), taskId });
    },
    removeSchedule: async (c) => {
      const name = c.req.param('name') ?? '';
      if (!(await tasks.scheduler().remove(name))) throw unknownSchedule(name);
      log.info({ action: 'remove-schedule', schedule: name }, 'schedule removed from the router');
      return json({ ok: true });
    },
  };
}

// The schemas of the schedule endpoints in the OpenAPI document, after src/tasks/schedule-types.ts.
import { arr, bool, int, nullable, obj, type Schema, str, time } from './openapi-builders.js';

const duration: Schema = {
  oneOf: [
    { type: 'number', description: 'Seconds' },
    { type: 'string', example: '5m' },
  ],
};

const schedule = obj(
  {
    name: str,
    taskName: str,
    queue: nullable('string'),
    kind: { type: 'string', enum: ['cron', 'every'] },
    cron: str,
    everyMs: int,
    timezone: str,
    nextRunAt: time,
    lastRunAt: time,
    lastTaskId: str,
    origin: { type: 'string', enum: ['code', 'admin'] },
    paused: bool,
    removed: bool,
  },
  ['name', 'taskName', 'kind', 'nextRunAt', 'origin', 'paused'],
);

/** @internal */
export const SCHEDULE_SCHEMAS: Record<string, Schema> = {
  Schedule: schedule,
  ScheduleList: obj({ schedules: arr(schedule) }, ['schedules']),
  ScheduleInput: obj(
    {
      name: str,
      task: { ...str, description: 'The task name submitted at each slot.' },
      cron: { ...str, description: '5 fields, or 6 with seconds first.' },
      every: duration,
      payload: { description: 'Any JSON value, handed to the task.' },
      options: {
        type: 'object',
        description: 'Task options (queue, priority, maxRetries...), `timezone` and `catchUp`.',
      },
    },
    ['name', 'task'],
  ),
  ScheduleActionResult: obj(
    { ok: bool, schedule, taskId: { ...str, description: 'The task submitted (run).' } },
    ['ok'],
  ),
};

// The schemas of the maintenance endpoints, after src/maintenance/types.ts and maintenance.ts.
import {
  arr,
  bool,
  int,
  nullable,
  num,
  obj,
  ref,
  type Schema,
  str,
  time,
} from './openapi-builders.js';

const counts: Schema = { type: 'object', additionalProperties: num };

/** @internal */
export const MAINTENANCE_SCHEMAS: Record<string, Schema> = {
  MaintenanceRunResult: obj(
    {
      id: str,
      task: str,
      trigger: { type: 'string', enum: ['schedule', 'manual', 'api'] },
      dryRun: bool,
      startedAt: time,
      finishedAt: time,
      durationMs: num,
      ok: bool,
      examined: { ...counts, description: 'What the run looked at, by kind' },
      done: { ...counts, description: 'What the run changed (or would, in a dry run), by kind' },
      details: { type: 'object', description: "The task's report" },
      notes: arr(str),
      error: obj({ name: str, code: nullable('string'), message: str }, ['name', 'message']),
    },
    [
      'id',
      'task',
      'trigger',
      'dryRun',
      'startedAt',
      'finishedAt',
      'durationMs',
      'ok',
      'examined',
      'done',
    ],
  ),
  MaintenanceTask: obj({
    name: str,
    schedule: nullable('string', { description: 'The cron expression; null when unscheduled' }),
    timezone: str,
    nextRunAt: nullable('string', { format: 'date-time' }),
    running: bool,
    timeoutMs: int,
    dryRun: bool,
    lastResult: { oneOf: [ref('MaintenanceRunResult'), { type: 'null' }] },
    results: arr(ref('MaintenanceRunResult')),
  }),
  MaintenanceOverview: obj({
    enabled: bool,
    tasks: arr(ref('MaintenanceTask')),
  }),
};

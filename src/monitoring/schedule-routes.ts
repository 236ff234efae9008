// The schedule endpoints of the route table: the schedules of every process, managed at run time.
import { json, ref, type Schema } from './openapi-builders.js';
import type { RouteSpec } from './route-spec.js';

const notEnabled: [string, string, Schema] = [
  'The tasks module is not enabled on this instance.',
  json,
  ref('Error'),
];
const unknown: [string, string, Schema] = ['No schedule has this name.', json, ref('Error')];

/** @internal The schedules, listed with the other data endpoints. */
export const SCHEDULE_READ_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/schedules',
    operationId: 'schedules',
    summary:
      'Every schedule of the deployment (registered in code or added at run time), paused ones included, with its next run.',
    tag: 'tasks',
    auth: true,
    responses: {
      '200': ['The schedules.', json, ref('ScheduleList')],
      '501': notEnabled,
    },
  },
];

const action = (verb: 'pause' | 'resume' | 'run', summary: string): RouteSpec => ({
  method: 'post',
  path: `/schedules/:name/${verb}`,
  operationId:
    verb === 'pause' ? 'pauseSchedule' : verb === 'resume' ? 'resumeSchedule' : 'runSchedule',
  summary,
  tag: 'tasks',
  auth: true,
  responses: {
    '200': ['Done.', json, ref('ScheduleActionResult')],
    '404': unknown,
    '501': notEnabled,
  },
});

/** @internal The schedule actions: authenticated and refused when sent from another site. */
export const SCHEDULE_ACTION_ROUTES: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/schedules',
    operationId: 'addSchedule',
    summary:
      'Adds (or replaces) a schedule in every process, kept across restarts until removed. Names registered in code are refused.',
    tag: 'tasks',
    auth: true,
    body: { description: 'Give `cron` or `every`.', schema: ref('ScheduleInput'), required: true },
    responses: {
      '201': ['Added.', json, ref('ScheduleActionResult')],
      '400': ['An invalid schedule; `error.field` names what.', json, ref('Error')],
      '501': notEnabled,
    },
  },
  action('pause', 'Pauses the schedule in every process (and across restarts) until resumed.'),
  action(
    'resume',
    'Resumes a paused schedule, or brings back a schedule registered in code that was removed.',
  ),
  action('run', 'Submits the schedule’s task now, once, outside its slots.'),
  {
    method: 'delete',
    path: '/schedules/:name',
    operationId: 'removeSchedule',
    summary:
      'Removes the schedule from every process: deleted when added at run time, kept removed (until resumed) when registered in code.',
    tag: 'tasks',
    auth: true,
    responses: {
      '200': ['Removed.', json, ref('ActionResult')],
      '404': unknown,
      '501': notEnabled,
    },
  },
];

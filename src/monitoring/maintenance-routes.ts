// The maintenance endpoints of the route table: what the router registers and the document describes.
import { bool, json, ref } from './openapi-builders.js';
import type { RouteSpec } from './route-spec.js';

/** @internal The maintenance tasks, their schedules and results; and running one now. */
export const MAINTENANCE_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/maintenance',
    operationId: 'maintenance',
    summary:
      'The maintenance tasks: schedule, next run, whether one runs now, and the kept results of their runs (what each looked at, what it did, how long it took, its error).',
    tag: 'maintenance',
    auth: true,
    responses: { '200': ['The tasks.', json, ref('MaintenanceOverview')] },
  },
  {
    method: 'post',
    path: '/maintenance/:task/run',
    operationId: 'runMaintenanceTask',
    summary:
      'Runs a maintenance task now in this process and answers its result once it finished (a run of it already under way is joined).',
    tag: 'maintenance',
    auth: true,
    query: [
      {
        name: 'dryRun',
        description: '`true`: report what would be done, change nothing.',
        schema: { ...bool, default: false },
      },
    ],
    responses: {
      '200': ['The run, succeeded or failed (see `ok`).', json, ref('MaintenanceRunResult')],
      '400': ['An invalid `dryRun`.', json, ref('Error')],
      '404': ['No enabled maintenance task has this name.', json, ref('Error')],
      '501': ['Maintenance is not enabled on this instance.', json, ref('Error')],
    },
  },
];

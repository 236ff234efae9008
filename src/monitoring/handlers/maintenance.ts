import { EnterpriseError } from '../../core/errors.js';
import { MonitoringRequestError } from '../errors.js';
import { badRequest } from '../request-body.js';
import { jsonResponse as json } from '../responses.js';
import type { HandlerContext, Handlers } from './types.js';

/**
 * @internal The maintenance endpoints. The module is read through the instance (never built: a
 * process that did not enable maintenance answers `enabled: false` and 501) and its errors are
 * recognised by code, so the monitoring entry loads none of its code.
 */
export function maintenanceHandlers({
  enterprise,
  log,
}: HandlerContext): Handlers<'maintenance' | 'runMaintenanceTask'> {
  return {
    maintenance: () => {
      const maintenance = enterprise.peek('maintenance');
      return json({
        enabled: maintenance?.enabled ?? false,
        tasks: maintenance?.list() ?? [],
      });
    },
    runMaintenanceTask: async (c) => {
      const task = c.req.param('task') ?? '';
      const dryRunText = c.req.query('dryRun');
      if (dryRunText !== undefined && dryRunText !== 'true' && dryRunText !== 'false') {
        throw badRequest('dryRun must be true or false', 'dryRun');
      }
      const maintenance = enterprise.peek('maintenance');
      if (maintenance === undefined || !maintenance.enabled) {
        throw new MonitoringRequestError(
          501,
          'E_MODULE_NOT_ENABLED',
          'maintenance is not enabled on this instance',
        );
      }
      try {
        const result = await maintenance.run(task, {
          trigger: 'api',
          ...(dryRunText === undefined ? {} : { dryRun: dryRunText === 'true' }),
        });
        log.info(
          { action: 'run-maintenance-task', task, ok: result.ok },
          'maintenance task run from the monitoring router',
        );
        return json(result);
      } catch (error) {
        if (error instanceof EnterpriseError && error.code === 'E_MAINTENANCE_UNKNOWN_TASK') {
          throw new MonitoringRequestError(404, 'E_NOT_FOUND', error.message);
        }
        throw error;
      }
    },
  };
}

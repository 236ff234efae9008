import type { Context } from 'hono';
import { EnterpriseError } from '../../core/errors.js';
import { MonitoringRequestError } from '../errors.js';
import type { MonitoredInstance, MonitoredModules } from '../monitored-instance.js';
import { badRequest } from '../request-body.js';
import { jsonResponse as json } from '../responses.js';
import type { HandlerContext, Handlers } from './types.js';

/** Longer values are refused before they reach a module. */
const MAX_PARAMETER = 200;

/**
 * @internal The reports and capacity endpoints. They answer 501 while the instance has not built
 * the module (monitoring reads it, never builds it); the modules' errors are recognised by code,
 * so the monitoring entry loads none of their code.
 */
export function reportHandlers({
  enterprise,
}: HandlerContext): Handlers<'analyticsCapacity' | 'reports' | 'report'> {
  return {
    analyticsCapacity: async (c) => {
      const capacity = moduleOf(enterprise, 'capacity');
      const lookback = parameter(c, 'lookback');
      const horizon = parameter(c, 'horizon');
      const confidence = parameter(c, 'confidence');
      return json(
        await answer(
          capacity.forecast({
            ...(lookback === undefined ? {} : { lookback: lookback as '1h' }),
            ...(horizon === undefined ? {} : { horizon: horizon as '1h' }),
            ...(confidence === undefined ? {} : { confidence: Number(confidence) }),
          }),
        ),
      );
    },
    reports: () => json({ reports: moduleOf(enterprise, 'reports').list() }),
    report: async (c) => {
      const reports = moduleOf(enterprise, 'reports');
      const name = c.req.param('name') ?? '';
      const from = parameter(c, 'from');
      const to = parameter(c, 'to');
      const format = parameter(c, 'format');
      const report = await answer(
        reports.generate(name, {
          ...(from === undefined ? {} : { from }),
          ...(to === undefined ? {} : { to }),
          ...(format === undefined ? {} : { format }),
        }),
      );
      return new Response(report.body, {
        status: 200,
        headers: {
          'content-type': report.contentType,
          'content-disposition': `inline; filename="${report.filename}"`,
          'cache-control': 'no-store',
        },
      });
    },
  };
}

function moduleOf<Name extends 'capacity' | 'reports'>(
  enterprise: MonitoredInstance,
  name: Name,
): MonitoredModules[Name] {
  const module = enterprise.peek(name);
  if (module === undefined) {
    throw new MonitoringRequestError(
      501,
      'E_MODULE_NOT_ENABLED',
      `the ${name} module is not enabled on this instance`,
    );
  }
  return module;
}

function parameter(c: Context, name: string): string | undefined {
  const value = c.req.query(name);
  if (value !== undefined && value.length > MAX_PARAMETER) {
    throw badRequest(`${name} is at most ${MAX_PARAMETER} characters`, name);
  }
  return value;
}

/** A query error is a 400 naming its parameter, a store that did not answer a 503. */
async function answer<T>(query: Promise<T>): Promise<T> {
  try {
    return await query;
  } catch (error) {
    if (error instanceof EnterpriseError) {
      if (error.code === 'E_REPORT_QUERY' || error.code === 'E_CAPACITY_QUERY') {
        const field = error.context.parameter;
        throw badRequest(error.message, typeof field === 'string' ? field : 'query');
      }
      if (error.code === 'E_HISTORY_STORE' || error.code === 'E_ANALYTICS_STORE') {
        throw new MonitoringRequestError(503, 'E_UNAVAILABLE', error.message);
      }
    }
    throw error;
  }
}

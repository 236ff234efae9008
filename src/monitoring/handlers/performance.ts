import type { WindowName } from '../../performance/types.js';
import { clusterAnswer, clusterScope } from '../cluster-scope.js';
import { MonitoringRequestError } from '../errors.js';
import { databasePerformance } from '../query-monitor.js';
import { jsonResponse as json } from '../responses.js';
import type { HandlerContext, Handlers } from './types.js';

const WINDOWS: readonly WindowName[] = ['1m', '5m', '15m', 'all'];

/** @internal The performance summary, the real-time stream and the database query timings. */
export function performanceHandlers({
  enterprise,
  hub,
}: HandlerContext): Handlers<'performanceSummary' | 'performanceRealtime' | 'databasePerformance'> {
  return {
    performanceSummary: async (c) => {
      const cluster = clusterScope(enterprise, c.req.query('scope'));
      if (cluster === undefined) return json(enterprise.performance.summary());
      return json(await clusterAnswer(cluster.performance()));
    },
    performanceRealtime: (c) => {
      if (c.req.raw.method === 'HEAD') {
        return new Response(null, {
          headers: {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache, no-transform',
          },
        });
      }
      return hub.open(c.req.raw);
    },
    databasePerformance: (c) => {
      const window = (c.req.query('window') ?? '5m') as WindowName;
      if (!WINDOWS.includes(window)) {
        throw new MonitoringRequestError(
          400,
          'E_BAD_REQUEST',
          `window must be one of ${WINDOWS.join(', ')}`,
        );
      }
      return json(databasePerformance(enterprise, window));
    },
  };
}

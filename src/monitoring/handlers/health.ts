import { jsonResponse as json } from '../responses.js';
import type { HandlerContext, Handlers } from './types.js';

/** @internal The health report and the liveness and readiness probes. */
export function healthHandlers({
  enterprise,
  health,
}: HandlerContext): Handlers<'health' | 'healthLive' | 'healthReady'> {
  return {
    health: async () => {
      const report = await health.check();
      return json(report, report.status === 'down' ? 503 : 200);
    },
    healthLive: () => json({ status: 'ok' }),
    healthReady: async () => {
      // First, and without a check: a load balancer must see the shutdown at once.
      if (enterprise.draining === true) {
        return json({ status: 'not-ready', reason: 'instance is shutting down' }, 503);
      }
      if (enterprise.state !== 'started') {
        return json({ status: 'not-ready', reason: `instance is ${enterprise.state}` }, 503);
      }
      const report = await health.check();
      if (report.status === 'down') {
        return json({ status: 'not-ready', reason: 'a critical dependency is down' }, 503);
      }
      return json({ status: 'ready' });
    },
  };
}

import { type HealthReport, statusRank } from '../../resilience/health-registry.js';
import type { ValueSource } from '../types.js';

/**
 * The value source of the health checks: `health.status`, one series per component (labels
 * `{ component }`), 0 for `ok`, 1 for `degraded`, 2 for `down`. It reads the report through the
 * function it is given (the monitoring module's checks, a `HealthRegistry`'s `check`), so the
 * alerts module does not depend on whoever runs the checks; a check that fails rejects the read.
 *
 * @example
 * ```ts
 * const registry = new HealthRegistry();
 * const [status] = healthSources(() => registry.check());
 * await status.read(); // [{ labels: { component: 'redis' }, value: 0 }, ...]
 * ```
 */
export function healthSources(report: () => Promise<HealthReport>): ValueSource[] {
  return [
    {
      name: 'health.status',
      description: 'Status of each health-checked component: 0 ok, 1 degraded, 2 down',
      read: async () =>
        (await report()).components.map((component) => ({
          labels: { component: component.name },
          value: statusRank(component.status),
        })),
    },
  ];
}

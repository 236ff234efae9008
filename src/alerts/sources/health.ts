import { type HealthReport, statusRank } from '../../resilience/health-registry.js';
import type { ValueSource } from '../types.js';

/** Options of {@link healthSources}. */
export interface HealthSourceOptions {
  /**
   * Components left out of `health.degraded`, because another rule already watches them (the
   * circuit breakers' components, say). @defaultValue none
   */
  degradedExcept?: (component: string) => boolean;
}

/**
 * The value sources of the health checks, one series per component (labels `{ component }`):
 * `health.status`, 0 for `ok`, 1 for `degraded`, 2 for `down`; and `health.degraded`, 1 while
 * the component is degraded, 0 otherwise. They read the report through the function they are
 * given (the monitoring module's checks, a `HealthRegistry`'s `check`), so the alerts module does
 * not depend on whoever runs the checks; a check that fails rejects the read.
 *
 * @example
 * ```ts
 * const registry = new HealthRegistry();
 * const [status] = healthSources(() => registry.check());
 * await status.read(); // [{ labels: { component: 'redis' }, value: 0 }, ...]
 * ```
 */
export function healthSources(
  report: () => Promise<HealthReport>,
  options: HealthSourceOptions = {},
): ValueSource[] {
  const except = options.degradedExcept ?? (() => false);
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
    {
      name: 'health.degraded',
      description: 'Whether each health-checked component is degraded: 1 degraded, 0 otherwise',
      read: async () =>
        (await report()).components
          .filter((component) => !except(component.name))
          .map((component) => ({
            labels: { component: component.name },
            value: component.status === 'degraded' ? 1 : 0,
          })),
    },
  ];
}

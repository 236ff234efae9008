import type { MonitoredInstance } from '../monitoring/monitored-instance.js';
import { registerTaskHandlers } from '../tasks/registry.js';

/**
 * Binds the `@BackgroundTask` methods of `instance` (a NestJS provider or controller) as task
 * handlers. Under `experimentalDecorators` a decorated method knows its class but not the instance
 * Nest builds, so without this the handler would have no `this`. Returns the task names bound.
 *
 * @internal
 */
export function findTaskHandlers(instance: object, enterprise: MonitoredInstance): string[] {
  try {
    const bound = registerTaskHandlers(instance);
    if (bound.length > 0) {
      enterprise.logger.debug(
        { tasks: bound, provider: instance.constructor?.name },
        'EnterpriseModule bound @BackgroundTask handlers',
      );
    }
    return bound;
  } catch (error) {
    enterprise.logger.warn(
      { err: error, provider: instance.constructor?.name },
      'EnterpriseModule could not bind the @BackgroundTask handlers of a provider',
    );
    return [];
  }
}

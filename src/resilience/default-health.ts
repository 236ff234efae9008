import { defaultBreakerRegistry } from './breaker-registry.js';
import { HealthRegistry } from './health-registry.js';

const DEFAULT = Symbol.for('@revcopy/enterprise/health-registry');

/**
 * The process health registry: the application's own dependencies, registered with
 * `health.register(name, check, { critical, timeout })`, and one component per circuit breaker
 * of the process registry (`breaker:<name>`, never critical). The monitoring router's `/health`
 * includes it beside the built-in checks; `readiness()` is ready unless a critical check is down.
 * Shared by the ESM and CommonJS builds of the package.
 *
 * @example
 * ```ts
 * health.register('payments', async () => (await fetch(paymentsHealthUrl)).ok, { timeout: '2s' });
 * health.register('search', pingSearch, { critical: false });
 * const { ready, failing } = await health.readiness();
 * ```
 */
export const health: HealthRegistry = defaultHealthRegistry();

function defaultHealthRegistry(): HealthRegistry {
  const holder = globalThis as { [DEFAULT]?: HealthRegistry };
  if (holder[DEFAULT] === undefined) {
    const registry = new HealthRegistry();
    registry.addProbe('circuit-breakers', defaultBreakerRegistry().healthProbe());
    holder[DEFAULT] = registry;
  }
  return holder[DEFAULT];
}

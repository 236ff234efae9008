import { systemClock } from '../core/clock.js';
import { Breaker } from './breaker.js';
import { type CircuitBreakerOptions, resolveBreakerOptions } from './breaker-options.js';
import { defaultBreakerRegistry } from './breaker-registry.js';

/**
 * Makes a {@link Breaker} named `name` and lists it in `options.registry` (the process registry
 * by default, where `/health`, Prometheus and the dashboard find it; a breaker listed under the
 * same name before is replaced there). Throws a `CircuitConfigError` naming an invalid option.
 *
 * @example
 * ```ts
 * const inventory = circuitBreaker('inventory', {
 *   errorRate: { threshold: 0.5, windowMs: 30_000, minimumCalls: 20 },
 *   timeoutMs: 1_000,
 *   fallback: () => ({ available: null }),
 * });
 * const stock = await inventory.execute((signal) => getStock(sku, signal));
 * ```
 */
export function circuitBreaker<F = never>(
  name: string,
  options: CircuitBreakerOptions<F> = {},
): Breaker<F> {
  const resolved = resolveBreakerOptions(name, options as CircuitBreakerOptions<unknown>);
  const breaker = new Breaker<F>(name, resolved, options.clock ?? systemClock);
  const registry = options.registry === undefined ? defaultBreakerRegistry() : options.registry;
  if (registry !== false) registry.add(breaker);
  return breaker;
}

import { InvalidArgumentError } from '../core/errors.js';
import type { PerformanceMonitor } from './performance-monitor.js';
import { metricFamilies } from './prometheus.js';

/** The part of a prom-client `Registry` the bridge uses (prom-client 15). */
export interface PromClientRegistryLike {
  registerMetric(metric: any): void;
  removeSingleMetric(name: string): void;
  readonly contentType?: string;
}

const OPENMETRICS = 'application/openmetrics-text';

/**
 * Registers the monitor's metrics into an existing prom-client registry, so a host that already
 * serves prom-client's `/metrics` gets them from the same endpoint. The values are read at scrape
 * time; nothing is copied on the hot path. Returns a function that unregisters them.
 *
 * @example
 * ```ts
 * import client from 'prom-client';
 * const unregister = registerPrometheus(performanceMonitor, client.register);
 * ```
 */
export function registerPrometheus(
  monitor: PerformanceMonitor,
  registry: PromClientRegistryLike,
): () => void {
  if (
    registry === null ||
    typeof registry !== 'object' ||
    typeof registry.registerMetric !== 'function' ||
    typeof registry.removeSingleMetric !== 'function'
  ) {
    throw new InvalidArgumentError('registry is not a prom-client Registry', {
      argument: 'registry',
      value: registry,
      expected: 'a prom-client Registry (prom-client 15)',
    });
  }
  // A scrape reads every family in turn: build them once per scrape, not once per family. A family
  // asked for a second time means a new scrape has begun, so the values are read again.
  let cached: ReturnType<typeof metricFamilies> | undefined;
  const served = new Set<string>();
  const families = (name: string) => {
    if (cached === undefined || served.has(name)) {
      cached = metricFamilies(monitor.prometheusInput());
      served.clear();
    }
    served.add(name);
    return cached;
  };
  // The set of families is fixed by the configuration; read it once to learn the names.
  const names = metricFamilies(monitor.prometheusInput()).map((family) => family.name);
  const registered: string[] = [];
  for (const name of names) {
    registry.registerMetric({
      name,
      help: '',
      type: 'untyped',
      aggregator: 'sum',
      get: () => {
        const family = families(name).find((f) => f.name === name);
        // prom-client appends `_total` to counters itself when it writes OpenMetrics.
        const strip =
          family?.type === 'counter' && registry.contentType?.startsWith(OPENMETRICS) === true;
        const rename = (metric: string) => (strip ? metric.replace(/_total$/, '') : metric);
        return {
          name: rename(name),
          help: family?.help ?? '',
          type: family?.type ?? 'gauge',
          aggregator: 'sum',
          values: (family?.samples ?? []).map((s) => ({
            metricName: rename(s.name),
            labels: s.labels,
            value: s.value,
          })),
        };
      },
      reset: () => {},
    });
    registered.push(name);
  }
  return () => {
    for (const name of registered) registry.removeSingleMetric(name);
  };
}

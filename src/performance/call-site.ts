import type { OperationSeries } from './operation-series.js';
import type { PerformanceMonitor } from './performance-monitor.js';
import type { Attributes, MonitorOptions } from './types.js';
import { checkAttributes, checkLabels, checkName, checkOptions } from './validation.js';

/**
 * A handle on one operation, resolved once per call site and reused: the hot path of a monitored
 * call is then a clock read, the call, a clock read and a few additions.
 *
 * @internal
 */
export interface OperationHandle {
  readonly series: OperationSeries;
  readonly generation: number;
}

/**
 * @internal A place that records an operation (a decorated method, a wrapped function): its options
 * are validated once, and the series handle is cached until the monitor changes or is reset.
 */
export class CallSite {
  readonly attributes: Attributes;
  readonly labels: Record<string, string>;
  readonly thresholdMs: number | undefined;
  #monitor: PerformanceMonitor | undefined;
  #handle: OperationHandle | undefined;

  constructor(
    readonly name: string,
    options: Omit<MonitorOptions, 'name'>,
  ) {
    checkName(name);
    checkOptions(options);
    this.attributes = checkAttributes(options.attributes);
    this.labels = checkLabels(options.labels);
    this.thresholdMs = options.thresholdMs;
  }

  resolve(monitor: PerformanceMonitor): OperationHandle {
    const handle = this.#handle;
    if (
      handle !== undefined &&
      this.#monitor === monitor &&
      handle.generation === monitor.generation
    ) {
      return handle;
    }
    this.#monitor = monitor;
    return (this.#handle = monitor.handle(this.name, this.labels, this.thresholdMs));
  }
}

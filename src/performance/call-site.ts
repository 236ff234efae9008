import type { OperationSeries } from './operation-series.js';
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
 * @internal What a call site resolves its handle from: the performance monitor. An interface, so
 * call sites and the monitor that runs them do not depend on each other.
 */
export interface OperationSource {
  readonly generation: number;
  handle(
    name: string,
    checkedLabels: Record<string, string>,
    thresholdMs: number | undefined,
  ): OperationHandle;
}

/**
 * @internal What a wrapped function is run by: the performance monitor, timing the call at `site`.
 */
export interface CallRunner {
  call<T>(site: CallSite, fn: (...args: any[]) => T, thisArg: unknown, args: readonly unknown[]): T;
}

/**
 * @internal A place that records an operation (a decorated method, a wrapped function): its options
 * are validated once, and the series handle is cached until the monitor changes or is reset.
 */
export class CallSite {
  readonly attributes: Attributes;
  readonly labels: Record<string, string>;
  readonly thresholdMs: number | undefined;
  #monitor: OperationSource | undefined;
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

  resolve(monitor: OperationSource): OperationHandle {
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

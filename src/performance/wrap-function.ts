import type { AnyFunction } from '../core/decorators.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import { type CallRunner, CallSite } from './call-site.js';
import { checkName, normalizeMonitorOptions } from './validation.js';

/**
 * @internal Builds the wrapper of `monitorPerformance` and `PerformanceMonitor.wrap`: options are
 * validated once, and each call records into the monitor `monitorOf()` returns (or runs the
 * function unmonitored when there is none).
 */
export function wrapFunction<F extends AnyFunction>(
  nameOrOptions: unknown,
  fn: F,
  extra: unknown,
  monitorOf: () => CallRunner | undefined,
): F {
  const options = normalizeMonitorOptions(nameOrOptions, extra);
  const name = checkName(options.name);
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(`fn=${describeValue(fn)} is not a function`, {
      argument: 'fn',
      value: fn,
      expected: 'a function',
    });
  }
  const site = new CallSite(name, options);
  const wrapped = function (this: unknown, ...args: unknown[]) {
    const monitor = monitorOf();
    return monitor === undefined ? fn.apply(this, args) : monitor.call(site, fn, this, args);
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  Object.defineProperty(wrapped, 'length', { value: fn.length });
  return wrapped as unknown as F;
}

import {
  type AnyFunction,
  assertFactoryCall,
  createMethodDecorator,
  type DualMethodDecorator,
} from '../core/decorators.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import { getEnterprise } from '../enterprise.js';
import { CallSite } from './monitor.js';
import type { Attributes, MonitorOptions } from './types.js';
import { checkName, checkOptions } from './validation.js';

/**
 * Records every call of the decorated method: duration, errors and slow calls, as the operation
 * `name` (default `ClassName.methodName`). Sync methods stay sync, async ones return the very same
 * promise; thrown values are counted and rethrown unchanged. Works with standard decorators and with
 * `experimentalDecorators` (NestJS) alike. Uses the default instance, looked up at call time.
 *
 * @example
 * ```ts
 * class UserService {
 *   @MonitorPerformance('user_authentication')
 *   async authenticate(credentials: Credentials) { ... }
 *
 *   @MonitorPerformance({ thresholdMs: 50, labels: { tier: 'free' } })
 *   findById(id: string) { ... } // recorded as "UserService.findById"
 * }
 * ```
 */
export function MonitorPerformance(
  nameOrOptions?: string | MonitorOptions,
  options?: Omit<MonitorOptions, 'name'>,
): DualMethodDecorator {
  // biome-ignore lint/complexity/noArguments: the decorator's own arguments reveal a missing `()`.
  assertFactoryCall('MonitorPerformance', arguments);
  const merged = normalize(nameOrOptions, options);
  return createMethodDecorator('MonitorPerformance', (original, method) => {
    let site: CallSite | undefined =
      merged.name === undefined ? undefined : new CallSite(merged.name, merged);
    return function monitored(this: unknown, ...args: unknown[]) {
      site ??= new CallSite(`${method.className(this)}.${method.methodName}`, merged);
      return getEnterprise().performance.call(site, original, this, args);
    };
  });
}

/**
 * The function twin of `@MonitorPerformance`: returns a function that behaves like `fn` (same
 * `this`, arguments, return value and thrown values) and records each call as `name`.
 *
 * @example
 * ```ts
 * export const sendEmail = monitorPerformance('send_email', async (to: string) => mailer.send(to));
 * const parse = monitorPerformance({ name: 'parse', thresholdMs: 5 }, JSON.parse);
 * ```
 */
export function monitorPerformance<F extends AnyFunction>(
  nameOrOptions: string | (MonitorOptions & { name: string }),
  fn: F,
): F {
  const options = normalize(nameOrOptions, undefined);
  if (options.name === undefined) checkName(undefined, 'name');
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(`fn=${describeValue(fn)} is not a function`, {
      argument: 'fn',
      value: fn,
      expected: 'a function',
    });
  }
  const site = new CallSite(options.name!, options);
  const wrapped = function (this: unknown, ...args: unknown[]) {
    return getEnterprise().performance.call(site, fn, this, args);
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  Object.defineProperty(wrapped, 'length', { value: fn.length });
  return wrapped as unknown as F;
}

/**
 * Runs `fn` as a span named `name` on the default instance and returns its result (the seed's
 * `async with performance_context(...)`). Spans opened inside record this one as their parent.
 *
 * @example
 * ```ts
 * const rows = await performanceContext('database_query', { table: 'users' }, () => db.query(sql));
 * ```
 */
export function performanceContext<T>(name: string, fn: () => T): T;
export function performanceContext<T>(
  name: string,
  attributes: Attributes | undefined,
  fn: () => T,
): T;
export function performanceContext<T>(
  name: string,
  attributesOrFn: Attributes | undefined | (() => T),
  fn?: () => T,
): T {
  const performance = getEnterprise().performance;
  return typeof attributesOrFn === 'function'
    ? performance.context(name, attributesOrFn)
    : performance.context(name, attributesOrFn, fn as () => T);
}

function normalize(
  nameOrOptions: string | MonitorOptions | undefined,
  options: Omit<MonitorOptions, 'name'> | undefined,
): MonitorOptions {
  if (typeof nameOrOptions === 'string' || nameOrOptions === undefined) {
    if (nameOrOptions !== undefined) checkName(nameOrOptions);
    return checkOptions({ ...checkOptions(options), name: nameOrOptions });
  }
  if (typeof nameOrOptions !== 'object' || nameOrOptions === null) {
    throw new InvalidArgumentError(
      `${describeValue(nameOrOptions)} is not an operation name or options object`,
      {
        argument: 'nameOrOptions',
        value: nameOrOptions,
        expected: 'a string or an options object',
      },
    );
  }
  return checkOptions({ ...nameOrOptions, ...checkOptions(options) });
}

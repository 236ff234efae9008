import {
  type AnyFunction,
  assertFactoryCall,
  createMethodDecorator,
  type DualMethodDecorator,
} from '../core/decorators.js';
import { CallSite } from './call-site.js';
import { defaultMonitor, defaultMonitorForCall } from './default-monitor.js';
import type { Attributes, MonitorOptions } from './types.js';
import { normalizeMonitorOptions } from './validation.js';
import { wrapFunction } from './wrap-function.js';

/**
 * Records every call of the decorated method: duration, errors and slow calls, as the operation
 * `name` (default `ClassName.methodName`). Sync methods stay sync; async ones return a promise that
 * settles as theirs does (a promise subclass is returned as it is); thrown values are counted and
 * rethrown unchanged. Works with standard decorators and with `experimentalDecorators` (NestJS)
 * alike. Uses the default instance, looked up at call time.
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
  const merged = normalizeMonitorOptions(nameOrOptions, options);
  return createMethodDecorator('MonitorPerformance', (original, method) => {
    let site: CallSite | undefined =
      merged.name === undefined ? undefined : new CallSite(merged.name, merged);
    return function monitored(this: unknown, ...args: unknown[]) {
      site ??= new CallSite(`${method.className(this)}.${method.methodName}`, merged);
      const monitor = defaultMonitorForCall();
      return monitor === undefined
        ? original.apply(this, args)
        : monitor.call(site, original, this, args);
    };
  });
}

/**
 * The function twin of `@MonitorPerformance`: returns a function that behaves like `fn` (same
 * `this`, arguments, return value and thrown values) and records each call as the operation named
 * by `nameOrOptions`. Uses the default instance, looked up at call time.
 *
 * @example
 * ```ts
 * export const sendEmail = monitorPerformance('send_email', async (to: string) => mailer.send(to));
 * const parse = monitorPerformance({ name: 'parse', thresholdMs: 5 }, JSON.parse);
 * const charge = monitorPerformance('charge', chargeCard, { labels: { provider: 'stripe' } });
 * ```
 */
export function monitorPerformance<F extends AnyFunction>(
  nameOrOptions: string | (MonitorOptions & { name: string }),
  fn: F,
  options?: Omit<MonitorOptions, 'name'>,
): F {
  return wrapFunction(nameOrOptions, fn, options, defaultMonitorForCall);
}

/**
 * Runs `fn` as a span on the default instance and returns its result. Spans opened inside record
 * this one as their parent.
 * Takes a name and optional attributes, or the options of `@MonitorPerformance`.
 *
 * @example
 * ```ts
 * const rows = await performanceContext('database_query', { table: 'users' }, () => db.query(sql));
 * await performanceContext({ name: 'export', thresholdMs: 30_000, labels: { format: 'csv' } }, run);
 * ```
 */
export function performanceContext<T>(
  nameOrOptions: string | (MonitorOptions & { name: string }),
  fn: () => T,
): T;
export function performanceContext<T>(
  name: string,
  attributes: Attributes | undefined,
  fn: () => T,
): T;
export function performanceContext<T>(
  nameOrOptions: string | (MonitorOptions & { name: string }),
  attributesOrFn: Attributes | undefined | (() => T),
  fn?: () => T,
): T {
  const performance = defaultMonitor();
  return typeof attributesOrFn === 'function'
    ? performance.context(nameOrOptions, attributesOrFn)
    : performance.context(nameOrOptions as string, attributesOrFn, fn as () => T);
}

import { getEnterprise } from '../enterprise.js';
import type { PerformanceMonitor } from './monitor.js';

/**
 * The default instance's performance monitor. Every property is looked up on
 * `getEnterprise().performance` when used, so it follows `configure()`.
 *
 * @example
 * ```ts
 * import { performanceMonitor } from '@revcopy/enterprise/performance';
 * performanceMonitor.on('slow', (event) => alert(event));
 * console.log(performanceMonitor.summary());
 * ```
 */
export const performanceMonitor: PerformanceMonitor = new Proxy({} as PerformanceMonitor, {
  get(_target, property) {
    const monitor = getEnterprise().performance;
    const value = Reflect.get(monitor, property, monitor);
    return typeof value === 'function' ? value.bind(monitor) : value;
  },
  has(_target, property) {
    return Reflect.has(getEnterprise().performance, property);
  },
  getPrototypeOf() {
    return Reflect.getPrototypeOf(getEnterprise().performance);
  },
});

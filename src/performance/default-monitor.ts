import { getEnterprise, onDefaultChange } from '../enterprise.js';
import type { PerformanceMonitor } from './performance-monitor.js';
import type { PerformanceEvents } from './types.js';

type Listener = (...args: any[]) => void;
interface Registration {
  event: keyof PerformanceEvents;
  listener: Listener;
  once: boolean;
}

/** Listeners added through `performanceMonitor`, moved to the new instance by `configure()`. */
const registrations: Registration[] = [];
let following = false;

function follow(): void {
  if (following) return;
  following = true;
  onDefaultChange((next, previous) => {
    for (const { event, listener, once } of registrations) {
      const monitor = previous?.performance;
      // A `once` listener that already fired is not carried over.
      if (monitor !== undefined && !monitor.listeners(event).includes(listener)) continue;
      monitor?.off(event, listener);
      if (once) next.performance.once(event, listener);
      else next.performance.on(event, listener);
    }
  });
}

function forget(event?: keyof PerformanceEvents, listener?: Listener): void {
  for (let i = registrations.length - 1; i >= 0; i--) {
    const r = registrations[i]!;
    if (
      (event === undefined || r.event === event) &&
      (listener === undefined || r.listener === listener)
    ) {
      registrations.splice(i, 1);
    }
  }
}

/** The event methods of the proxy: they remember listeners so they can follow `configure()`. */
const eventMethods: Record<
  string,
  (monitor: PerformanceMonitor, proxy: PerformanceMonitor) => unknown
> = {
  on: (monitor, proxy) => (event: keyof PerformanceEvents, listener: Listener) => {
    follow();
    registrations.push({ event, listener, once: false });
    monitor.on(event, listener);
    return proxy;
  },
  once: (monitor, proxy) => (event: keyof PerformanceEvents, listener: Listener) => {
    follow();
    registrations.push({ event, listener, once: true });
    monitor.once(event, listener);
    return proxy;
  },
  off: (monitor, proxy) => (event: keyof PerformanceEvents, listener?: Listener) => {
    forget(event, listener);
    monitor.off(event, listener);
    return proxy;
  },
  removeAllListeners: (monitor, proxy) => (event?: keyof PerformanceEvents) => {
    forget(event);
    monitor.removeAllListeners(event);
    return proxy;
  },
};
eventMethods.addListener = eventMethods.on!;
eventMethods.removeListener = eventMethods.off!;

/**
 * The default instance's performance monitor. Every property is looked up on
 * `getEnterprise().performance` when used, so it follows `configure()`; listeners added through it
 * move to the new default instance too.
 *
 * @example
 * ```ts
 * import { performanceMonitor } from '@revcopy/enterprise/performance';
 * performanceMonitor.on('slow', (event) => alert(event));
 * console.log(performanceMonitor.summary());
 * ```
 */
export const performanceMonitor: PerformanceMonitor = new Proxy({} as PerformanceMonitor, {
  get(_target, property, proxy) {
    const monitor = getEnterprise().performance;
    const events = typeof property === 'string' ? eventMethods[property] : undefined;
    if (events !== undefined) return events(monitor, proxy);
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

import {
  defaultPart,
  defaultPartForCall,
  onDefaultInstanceChange,
} from '../core/default-instance.js';
import type { PerformanceMonitor } from './performance-monitor.js';
import type { PerformanceEvents } from './types.js';

/** @internal The default instance's monitor, built from the environment on first use. */
export function defaultMonitor(): PerformanceMonitor {
  return defaultPart<PerformanceMonitor>('performance');
}

/** @internal The default monitor for a monitored call, `undefined` when it cannot be built. */
export function defaultMonitorForCall(): PerformanceMonitor | undefined {
  return defaultPartForCall<PerformanceMonitor>('performance');
}

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
  onDefaultInstanceChange((nextInstance, previousInstance) => {
    const next = nextInstance as unknown as { performance: PerformanceMonitor };
    const previous = previousInstance as unknown as { performance: PerformanceMonitor } | undefined;
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
    const monitor = defaultMonitor();
    const events = typeof property === 'string' ? eventMethods[property] : undefined;
    if (events !== undefined) return events(monitor, proxy);
    const value = Reflect.get(monitor, property, monitor);
    return typeof value === 'function' ? value.bind(monitor) : value;
  },
  has(_target, property) {
    return Reflect.has(defaultMonitor(), property);
  },
  getPrototypeOf() {
    return Reflect.getPrototypeOf(defaultMonitor());
  },
});

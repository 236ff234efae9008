// The shapes of health checks and reports, shared by the health registry, the breakers' probe,
// the monitoring router and the alerts' health source.
import type { Duration } from '../core/duration.js';

/** `ok`: working; `degraded`: working with a problem (a fallback in use, slow); `down`: not working. */
export type HealthStatus = 'ok' | 'degraded' | 'down';

/**
 * What a health check may resolve: a status, a boolean (`true` = ok), or a full answer.
 *
 * @example
 * ```ts
 * const answer: HealthCheckResult = { status: 'degraded', message: 'replica lag 12 s', details: { lagSeconds: 12 } };
 * ```
 */
export type HealthCheckResult =
  | HealthStatus
  | boolean
  | { status: HealthStatus; message?: string; details?: Record<string, unknown> };

/**
 * A health check; it is given the registry's timeout to settle and is `down` when it throws.
 *
 * @example
 * ```ts
 * const search: HealthCheck = async () => {
 *   const { status } = await elastic.cluster.health();
 *   return status === 'green' ? 'ok' : { status: 'degraded', message: `cluster ${status}` };
 * };
 * ```
 */
export type HealthCheck = () => HealthCheckResult | Promise<HealthCheckResult>;

/**
 * The health of one component.
 *
 * @example
 * ```ts
 * const redis: HealthComponent = { name: 'redis', status: 'ok', critical: false, latencyMs: 0.8 };
 * ```
 */
export interface HealthComponent {
  /** `redis`, `database`, `task-workers`, `event-loop`, or the name of a custom check. */
  name: string;
  status: HealthStatus;
  /** Whether this component being `down` makes the whole service `down` (HTTP 503). */
  critical: boolean;
  /** Why the status is not `ok`, or a short description of what was checked. */
  message?: string;
  /** How long the check took, in milliseconds (`null` for checks that read figures only). */
  latencyMs: number | null;
  /** Figures behind the status (tier names, circuit state, delay percentiles, worker counts...). */
  details?: Record<string, unknown>;
}

/**
 * One round of checks: the overall status and every component.
 *
 * @example
 * ```ts
 * const report: HealthReport = await registry.check();
 * if (report.status === 'down') process.exitCode = 1;
 * ```
 */
export interface HealthReport {
  /** The worst status among the components, a non-critical component's `down` counting as `degraded`. */
  status: HealthStatus;
  /** When the checks ran (they are cached for a short time). */
  checkedAt: string;
  /** One entry per checked component. */
  components: HealthComponent[];
}

/** Returned by {@link HealthProbeContext.within} when the promise did not settle in time. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * What a {@link HealthProbe} is given: the time it has and a maker of components that knows
 * which names are critical.
 */
export interface HealthProbeContext {
  /** How long each probe may take, in milliseconds. */
  readonly timeoutMs: number;
  /** `promise`'s value, or {@link TIMED_OUT} when it has not settled within `timeoutMs`. */
  within<T>(promise: Promise<T>): Promise<T | typeof TIMED_OUT>;
  /** A component, its `critical` flag set by the registry and its latency rounded. */
  component(
    name: string,
    status: HealthStatus,
    latencyMs: number | null,
    message?: string,
    details?: Record<string, unknown>,
  ): HealthComponent;
}

/**
 * A check reporting any number of components: a module's dependencies (none while the module is
 * not built), or one figure compared to thresholds. It bounds its own waits with `within`.
 *
 * @example
 * ```ts
 * const probe: HealthProbe = async (context) => {
 *   const started = performance.now();
 *   const answer = await context.within(redis.ping());
 *   return [context.component('redis', answer === 'PONG' ? 'ok' : 'down', performance.now() - started)];
 * };
 * ```
 */
export type HealthProbe = (
  context: HealthProbeContext,
) => HealthComponent[] | Promise<HealthComponent[]>;

/**
 * Options of {@link HealthRegistry}.
 *
 * @example
 * ```ts
 * const registry = new HealthRegistry({ timeoutMs: 500, cacheMs: 2000, critical: ['task-backend'] });
 * ```
 */
export interface HealthRegistryOptions {
  /** Each check gives up after this long and reports `down`. @defaultValue 1000 */
  timeoutMs?: number;
  /** A report is reused for this long, so concurrent callers cost one round. @defaultValue 1000 */
  cacheMs?: number;
  /** The critical components, replacing the flags given at registration. */
  critical?: readonly string[];
}

/**
 * Options of {@link HealthRegistry.register}.
 *
 * @example
 * ```ts
 * health.register('payments', pingPayments, { critical: true, timeout: '2s' });
 * ```
 */
export interface HealthCheckOptions {
  /** Whether its `down` makes the service `down` and not ready. @defaultValue true */
  critical?: boolean;
  /** How long this check may take: seconds, or a string such as `'500ms'`. @defaultValue the registry's `timeoutMs` */
  timeout?: Duration;
  /** The same in milliseconds (wins over `timeout`). */
  timeoutMs?: number;
}

/**
 * Whether the service should receive traffic: ready unless a critical component is `down`.
 *
 * @example
 * ```ts
 * const { ready, failing } = await health.readiness();
 * if (!ready) console.warn('not ready:', failing.join(', '));
 * ```
 */
export interface Readiness {
  ready: boolean;
  /** The report's overall status. */
  status: HealthStatus;
  /** The critical components that are `down`. */
  failing: string[];
  checkedAt: string;
}

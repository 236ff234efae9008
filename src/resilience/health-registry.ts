import { type Duration, parseDuration } from '../core/duration.js';
import { InvalidArgumentError } from '../core/errors.js';

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

type Entry =
  | { kind: 'check'; name: string; check: HealthCheck; timeoutMs: number }
  | { kind: 'probe'; name: string; probe: HealthProbe };

/**
 * Health checks by component: each runs under a timeout, a `down` of a critical component makes
 * the whole report `down` and any other `down` only `degraded`. Concurrent callers share one
 * round; a report is reused for `cacheMs`. Checks and probes run in the order they were added.
 *
 * @example
 * ```ts
 * const registry = new HealthRegistry({ timeoutMs: 500 });
 * registry.register('payments', async () => (await fetch(paymentsUrl)).ok);
 * registry.register('search', () => 'ok', { critical: false });
 * const { status, components } = await registry.check();
 * ```
 */
export class HealthRegistry {
  readonly #timeoutMs: number;
  readonly #cacheMs: number;
  readonly #fixedCritical: ReadonlySet<string> | undefined;
  readonly #critical = new Set<string>();
  readonly #entries: Entry[] = [];
  #last: { at: number; report: HealthReport } | undefined;
  #running: Promise<HealthReport> | undefined;

  constructor(options: HealthRegistryOptions = {}) {
    this.#timeoutMs = milliseconds(options.timeoutMs ?? 1000, 'timeoutMs', false);
    this.#cacheMs = milliseconds(options.cacheMs ?? 1000, 'cacheMs', true);
    this.#fixedCritical = options.critical === undefined ? undefined : new Set(options.critical);
  }

  /**
   * Adds the check of component `name` (critical unless `critical: false`), run under its own
   * `timeout` when given; returns its removal. Throws `InvalidArgumentError` when `check` is not a
   * function, the name is taken or empty, or the timeout is invalid.
   */
  register(name: string, check: HealthCheck, options: HealthCheckOptions = {}): () => void {
    if (typeof name !== 'string' || name.trim() === '') {
      throw new InvalidArgumentError(`the health check name ${String(name)} is invalid`, {
        argument: 'name',
        value: name,
        expected: 'a non-empty string',
      });
    }
    if (typeof check !== 'function') {
      throw new InvalidArgumentError(`the health check "${name}" is not a function`, {
        argument: 'check',
        value: check,
        expected: 'a function returning a status, a boolean or { status }',
      });
    }
    const timeoutMs =
      options.timeoutMs !== undefined
        ? milliseconds(options.timeoutMs, `${name}.timeoutMs`, false)
        : options.timeout !== undefined
          ? milliseconds(
              parseDuration(options.timeout, `${name}.timeout`),
              `${name}.timeout`,
              false,
            )
          : this.#timeoutMs;
    return this.#add(
      { kind: 'check', name, check, timeoutMs },
      options.critical === false ? [] : [name],
    );
  }

  /**
   * Adds a probe reporting any number of components; the names in `critical` are critical unless
   * the registry was given its own list. A probe that throws reports component `name` as `down`.
   */
  addProbe(
    name: string,
    probe: HealthProbe,
    options: { critical?: readonly string[] } = {},
  ): () => void {
    if (typeof probe !== 'function') {
      throw new InvalidArgumentError(`the health probe "${name}" is not a function`, {
        argument: 'probe',
        value: probe,
        expected: 'a function returning health components',
      });
    }
    return this.#add({ kind: 'probe', name, probe }, options.critical ?? []);
  }

  /** The report, from the cache when it is younger than `maxAgeMs`. Never rejects. */
  check(maxAgeMs = this.#cacheMs): Promise<HealthReport> {
    const last = this.#last;
    if (last !== undefined && performance.now() - last.at <= maxAgeMs) {
      return Promise.resolve(last.report);
    }
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** The last report computed, if any (for a reader that must not wait for a round). */
  get last(): HealthReport | undefined {
    return this.#last?.report;
  }

  /**
   * Whether the service should receive traffic: ready unless a critical component is `down`.
   * Never rejects.
   */
  async readiness(maxAgeMs?: number): Promise<Readiness> {
    const report = await this.check(maxAgeMs);
    const failing = report.components
      .filter((component) => component.critical && component.status === 'down')
      .map((component) => component.name);
    return {
      ready: failing.length === 0,
      status: report.status,
      failing,
      checkedAt: report.checkedAt,
    };
  }

  /**
   * This registry's components as a probe of another registry (the monitoring router's), each
   * with its own `critical` flag and timeout.
   *
   * @example
   * ```ts
   * routerChecks.addProbe('application', health.asProbe());
   * ```
   */
  asProbe(): HealthProbe {
    return async () => (await this.check()).components;
  }

  #add(entry: Entry, critical: readonly string[]): () => void {
    if (this.#entries.some((other) => other.kind === entry.kind && other.name === entry.name)) {
      throw new InvalidArgumentError(`a health check is already named "${entry.name}"`, {
        argument: 'name',
        value: entry.name,
        expected: 'a name not registered yet',
      });
    }
    this.#entries.push(entry);
    for (const name of critical) this.#critical.add(name);
    this.#last = undefined;
    return () => {
      const index = this.#entries.indexOf(entry);
      if (index === -1) return;
      this.#entries.splice(index, 1);
      for (const name of critical) this.#critical.delete(name);
      this.#last = undefined;
    };
  }

  async #run(): Promise<HealthReport> {
    const context: HealthProbeContext = {
      timeoutMs: this.#timeoutMs,
      within: (promise) => within(promise, this.#timeoutMs),
      component: (name, status, latencyMs, message, details) =>
        this.#component(name, status, latencyMs, message, details),
    };
    const components = (
      await Promise.all(
        this.#entries.map((entry) =>
          entry.kind === 'check' ? this.#runCheck(entry) : runProbe(entry, context),
        ),
      )
    ).flat();
    let status: HealthStatus = 'ok';
    for (const component of components) {
      const effective =
        component.status === 'down' && !component.critical ? 'degraded' : component.status;
      status = worst(status, effective);
    }
    const report: HealthReport = { status, checkedAt: new Date().toISOString(), components };
    this.#last = { at: performance.now(), report };
    return report;
  }

  #component(
    name: string,
    status: HealthStatus,
    latencyMs: number | null,
    message?: string,
    details?: Record<string, unknown>,
  ): HealthComponent {
    const component: HealthComponent = {
      name,
      status,
      critical: (this.#fixedCritical ?? this.#critical).has(name),
      latencyMs: latencyMs === null ? null : Math.round(latencyMs * 100) / 100,
    };
    if (message !== undefined) component.message = message;
    if (details !== undefined) component.details = details;
    return component;
  }

  async #runCheck({
    name,
    check,
    timeoutMs,
  }: {
    name: string;
    check: HealthCheck;
    timeoutMs: number;
  }): Promise<HealthComponent> {
    const started = performance.now();
    try {
      const outcome = await within(
        Promise.resolve().then(() => check()),
        timeoutMs,
      );
      const latencyMs = performance.now() - started;
      if (outcome === TIMED_OUT) {
        return this.#component(name, 'down', latencyMs, `no answer within ${timeoutMs} ms`);
      }
      if (outcome === true || outcome === false) {
        return this.#component(name, outcome ? 'ok' : 'down', latencyMs);
      }
      if (typeof outcome === 'string') {
        return this.#component(name, isStatus(outcome) ? outcome : 'down', latencyMs);
      }
      if (outcome !== null && typeof outcome === 'object' && isStatus(outcome.status)) {
        return this.#component(name, outcome.status, latencyMs, outcome.message, outcome.details);
      }
      return this.#component(name, 'down', latencyMs, 'the check returned an invalid result');
    } catch (error) {
      return this.#component(name, 'down', performance.now() - started, messageOf(error));
    }
  }
}

async function runProbe(
  entry: { name: string; probe: HealthProbe },
  context: HealthProbeContext,
): Promise<HealthComponent[]> {
  const started = performance.now();
  try {
    return await entry.probe(context);
  } catch (error) {
    return [context.component(entry.name, 'down', performance.now() - started, messageOf(error))];
  }
}

/** Races `promise` against an unref'd timer that is cleared as soon as either settles. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
    timer.unref();
  });
  // The losing promise may still reject later: that rejection is handled here, not left unhandled.
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** 0 for `ok`, 1 for `degraded`, 2 for `down`: the order in which statuses are worse. */
export function statusRank(status: HealthStatus): number {
  return status === 'ok' ? 0 : status === 'degraded' ? 1 : 2;
}

function worst(a: HealthStatus, b: HealthStatus): HealthStatus {
  return statusRank(b) > statusRank(a) ? b : a;
}

function isStatus(value: unknown): value is HealthStatus {
  return value === 'ok' || value === 'degraded' || value === 'down';
}

function messageOf(error: unknown): string {
  return (error as Error)?.message ?? String(error);
}

function milliseconds(value: unknown, option: string, zero: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!zero && value === 0)) {
    throw new InvalidArgumentError(`${option}=${String(value)} is invalid`, {
      argument: option,
      value,
      expected: zero
        ? 'a non-negative number of milliseconds'
        : 'a positive number of milliseconds',
    });
  }
  return value;
}

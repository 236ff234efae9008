import { parseDuration } from '../core/duration.js';
import { InvalidArgumentError } from '../core/errors.js';
import {
  type HealthCheck,
  type HealthCheckOptions,
  type HealthComponent,
  type HealthProbe,
  type HealthProbeContext,
  type HealthRegistryOptions,
  type HealthReport,
  type HealthStatus,
  type Readiness,
  TIMED_OUT,
} from './health-types.js';

export * from './health-types.js';

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

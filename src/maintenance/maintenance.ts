import { EnterpriseError } from '../core/errors.js';
import type { HealthStatus } from '../resilience/health-types.js';
import { cronSlots } from '../tasks/schedule-slots.js';
import { exportState, importState } from './backup.js';
import type {
  BackupDocument,
  ExportStateOptions,
  ImportStateOptions,
  ImportStateResult,
} from './backup-types.js';
import {
  MaintenanceTaskError,
  MaintenanceTimeoutError,
  MaintenanceUnknownTaskError,
} from './errors.js';
import { checkCron } from './option-checks.js';
import {
  type MaintenanceOptions,
  type ResolvedMaintenance,
  type ResolvedTask,
  resolveMaintenanceOptions,
} from './options.js';
import { checkTaskOptions, runTask } from './task-runners.js';
import type {
  MaintenanceOutcome,
  MaintenanceRunResult,
  MaintenanceServices,
  MaintenanceTaskHost,
  MaintenanceTaskName,
} from './types.js';

/** One task as `list()` and `GET /maintenance` show it. */
export interface MaintenanceTaskStatus {
  name: MaintenanceTaskName;
  /** The cron expression, or `null` when the task is not scheduled (it can still be run). */
  schedule: string | null;
  timezone: string;
  /** ISO 8601, or `null` when unscheduled. */
  nextRunAt: string | null;
  running: boolean;
  timeoutMs: number;
  dryRun: boolean;
  lastResult: MaintenanceRunResult | null;
  /** The kept runs, newest first. */
  results: MaintenanceRunResult[];
}

/** Options of {@link Maintenance.run}. */
export interface MaintenanceRunOptions {
  /** Report only, whatever the task's own `dryRun`. */
  dryRun?: boolean;
  /** @internal Who asked: `manual` unless the scheduler or the router did. */
  trigger?: MaintenanceRunResult['trigger'];
}

/** The name a task's schedule has in the scheduler. */
export const scheduleNameOf = (task: string): string => `maintenance:${task}`;

/**
 * The seven maintenance tasks of an instance (`enterprise.maintenance`): registered as background
 * tasks under their names and scheduled by `enable()`, run now by `run()`, every run recorded
 * (bounded) with what it looked at, what it did and how long it took. A failed run raises an alert
 * when the alerts module is present.
 *
 * @example
 * ```ts
 * enterprise.maintenance.enable({ database: { postgres: pool } });
 * const result = await enterprise.maintenance.run('optimize_database', { dryRun: true });
 * console.log(result.details?.postgres);
 * ```
 */
export class Maintenance {
  readonly #services: MaintenanceServices;
  #settings: ResolvedMaintenance | undefined;
  readonly #results = new Map<string, MaintenanceRunResult[]>();
  readonly #running = new Map<
    string,
    { done: Promise<MaintenanceRunResult>; abort: AbortController }
  >();
  /** The tasks whose handler each task engine has (registered once per engine and task). */
  readonly #hosts = new WeakMap<MaintenanceTaskHost, Set<string>>();
  readonly #state = { health: new Map<string, HealthStatus>() };
  #closed = false;
  #seq = 0;

  /** @internal Built by the composition; use `enterprise.maintenance`. */
  constructor(services: MaintenanceServices) {
    this.#services = services;
  }

  /**
   * A JSON document of what operators build up at run time, for a backup or a move to another
   * environment: the stored schedules, the dead tasks of every queue, the alert rules that watch a
   * named source and the silences not yet expired. Works whether or not `enable()` was called.
   *
   * @example
   * ```ts
   * const doc = await enterprise.maintenance.exportState();
   * await writeFile('backup.json', JSON.stringify(doc, null, 2));
   * ```
   */
  exportState(options?: ExportStateOptions): Promise<BackupDocument> {
    return exportState(this.#services.backup ?? {}, options);
  }

  /**
   * Restores a document of {@link exportState} (the object or its JSON text). Checked whole first:
   * a bad field is a `MaintenanceBackupError` naming it, and nothing is written. Then it writes only
   * what is missing or differs (dead tasks and silences already present, rules of the same name,
   * identical schedules are left alone), so importing the same document twice changes nothing.
   *
   * @example
   * ```ts
   * const result = await enterprise.maintenance.importState(await readFile('backup.json', 'utf8'));
   * console.log(result.schedules, result.deadTasks); // { created, updated, unchanged }
   * ```
   */
  importState(document: unknown, options?: ImportStateOptions): Promise<ImportStateResult> {
    return importState(this.#services.backup ?? {}, document, options);
  }

  /** Whether `enable()` was called (and not undone by `disable()`). */
  get enabled(): boolean {
    return this.#settings !== undefined;
  }

  /**
   * Registers the tasks (all seven unless some are `false`) as background tasks under their names
   * and schedules each on its cron. Calling it again replaces the previous settings. Throws
   * `MaintenanceConfigError` naming the option for a bad cron, rule, table name or threshold.
   *
   * @example
   * ```ts
   * enterprise.maintenance.enable({
   *   database: { postgres: pool },
   *   optimize_database: { schedule: '0 3 * * *' },
   *   cache_warming: { schedule: false },
   * });
   * ```
   */
  enable(options: MaintenanceOptions = {}): this {
    const settings = resolveMaintenanceOptions(options, (task) => checkTaskOptions(task));
    this.#unscheduleAll();
    this.#settings = settings;
    const host = this.#services.tasks?.();
    if (host !== undefined) {
      this.#register(host, settings);
      for (const task of settings.tasks.values()) this.#scheduleOn(host, task);
    }
    return this;
  }

  /**
   * Sets a task's cron (or `false` to unschedule it) at run time.
   *
   * @example
   * ```ts
   * enterprise.maintenance.schedule('system_health_check', '*\/5 * * * *');
   * enterprise.maintenance.schedule('cache_warming', false);
   * ```
   */
  schedule(name: string, cron: string | false): MaintenanceTaskStatus {
    const task = this.#task(name);
    task.cron =
      cron === false ? false : checkCron(cron, this.#settings!.timezone, `${name}.schedule`);
    const host = this.#services.tasks?.();
    if (host !== undefined) this.#scheduleOn(host, task);
    return this.list().find((status) => status.name === name)!;
  }

  /** Unschedules every task (handlers stay registered; runs already submitted still run). */
  disable(): void {
    this.#unscheduleAll();
    this.#settings = undefined;
  }

  /**
   * Runs a task now in this process and resolves its recorded result; a run of the same task
   * already under way is joined rather than started twice. Never rejects for a failing task (the
   * result says `ok: false`); rejects with `MaintenanceUnknownTaskError` for a name that is not
   * an enabled task.
   *
   * @example
   * ```ts
   * const { ok, examined, done, durationMs } = await enterprise.maintenance.run('cleanup_completed_tasks');
   * ```
   */
  run(name: string, options: MaintenanceRunOptions = {}): Promise<MaintenanceRunResult> {
    let task: ResolvedTask;
    try {
      task = this.#task(name);
    } catch (error) {
      return Promise.reject(error);
    }
    const current = this.#running.get(name);
    if (current !== undefined) return current.done;
    const abort = new AbortController();
    const done = this.#execute(task, options, abort).finally(() => this.#running.delete(name));
    this.#running.set(name, { done, abort });
    return done;
  }

  /**
   * The tasks with their schedule, next run and kept results.
   *
   * @example
   * ```ts
   * for (const task of enterprise.maintenance.list()) console.log(task.name, task.nextRunAt, task.lastResult?.ok);
   * ```
   */
  list(): MaintenanceTaskStatus[] {
    const settings = this.#settings;
    if (settings === undefined) return [];
    let schedules: ReturnType<MaintenanceTaskHost['scheduler']['list']> = [];
    try {
      schedules = this.#services.tasks?.()?.scheduler.list() ?? [];
    } catch {
      // The task engine is gone (the instance shut down): the next slots follow from the crons.
    }
    const scheduled = new Map(schedules.map((s) => [s.name, s] as const));
    const now = Date.now();
    return [...settings.tasks.values()].map((task) => {
      const results = this.results(task.name);
      let nextRunAt: string | null = null;
      if (task.cron !== false) {
        const next = scheduled.get(scheduleNameOf(task.name))?.nextRunAt.getTime();
        nextRunAt = new Date(
          next ?? cronSlots(task.cron, settings.timezone).next(now),
        ).toISOString();
      }
      return {
        name: task.name,
        schedule: task.cron === false ? null : task.cron,
        timezone: settings.timezone ?? 'UTC',
        nextRunAt,
        running: this.#running.has(task.name),
        timeoutMs: task.timeoutMs,
        dryRun: task.dryRun,
        lastResult: results[0] ?? null,
        results,
      };
    });
  }

  /** The kept results of `name` (or of every task), newest first. */
  results(name?: string): MaintenanceRunResult[] {
    if (name !== undefined) return [...(this.#results.get(name) ?? [])];
    return [...this.#results.values()].flat().sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
  }

  /** @internal Stops the runs under way (each is recorded as failed) and waits for them, 5 s at most. */
  async close(): Promise<void> {
    this.#closed = true;
    const running = [...this.#running.values()];
    for (const run of running)
      run.abort.abort(new MaintenanceTaskError('maintenance', 'stopped by shutdown'));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(running.map((run) => run.done)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 5_000);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }

  #task(name: string): ResolvedTask {
    const task = this.#settings?.tasks.get(name as MaintenanceTaskName);
    if (task === undefined) {
      throw new MaintenanceUnknownTaskError(name, [...(this.#settings?.tasks.keys() ?? [])]);
    }
    return task;
  }

  #register(host: MaintenanceTaskHost, settings: ResolvedMaintenance): void {
    let registered = this.#hosts.get(host);
    if (registered === undefined) {
      registered = new Set();
      this.#hosts.set(host, registered);
    }
    for (const task of settings.tasks.values()) {
      if (registered.has(task.name)) continue;
      registered.add(task.name);
      host.register(
        task.name,
        async () => {
          const result = await this.run(task.name, { trigger: 'schedule' });
          if (!result.ok)
            throw new MaintenanceTaskError(task.name, result.error?.message ?? 'failed');
          return { examined: result.examined, done: result.done, durationMs: result.durationMs };
        },
        // The run records and alerts itself: the task system does not try again.
        { maxRetries: 0, ...(settings.queue === undefined ? {} : { queue: settings.queue }) },
      );
    }
  }

  #scheduleOn(host: MaintenanceTaskHost, task: ResolvedTask): void {
    const scheduleName = scheduleNameOf(task.name);
    host.scheduler.unschedule(scheduleName);
    if (task.cron === false) return;
    const settings = this.#settings!;
    host.scheduler.schedulePeriodic(task.cron, scheduleName, task.name, undefined, {
      maxRetries: 0,
      // A slot missed while every process was down runs once at start.
      catchUp: true,
      ...(settings.timezone === undefined ? {} : { timezone: settings.timezone }),
      ...(settings.queue === undefined ? {} : { queue: settings.queue }),
    });
  }

  #unscheduleAll(): void {
    const settings = this.#settings;
    const host = this.#services.tasks?.();
    if (settings === undefined || host === undefined) return;
    for (const name of settings.tasks.keys()) host.scheduler.unschedule(scheduleNameOf(name));
  }

  async #execute(
    task: ResolvedTask,
    options: MaintenanceRunOptions,
    abort: AbortController,
  ): Promise<MaintenanceRunResult> {
    const startedAt = Date.now();
    const started = performance.now();
    const dryRun = options.dryRun ?? task.dryRun;
    const log = this.#services.logger;
    const timer = setTimeout(
      () => abort.abort(new MaintenanceTimeoutError(task.name, task.timeoutMs)),
      task.timeoutMs,
    );
    timer.unref();
    let outcome: MaintenanceOutcome = { examined: {}, done: {} };
    let failure: unknown;
    try {
      if (this.#closed) throw new MaintenanceTaskError(task.name, 'the instance is shutting down');
      const aborted = new Promise<never>((_, reject) => {
        abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
      });
      aborted.catch(() => {});
      outcome = await Promise.race([
        runTask(task, this.#settings!, this.#services, this.#state, {
          task: task.name,
          signal: abort.signal,
          dryRun,
          deadline: startedAt + task.timeoutMs,
          log,
        }),
        aborted,
      ]);
    } catch (error) {
      failure = error;
    } finally {
      clearTimeout(timer);
    }
    const durationMs = performance.now() - started;
    this.#seq += 1;
    const result: MaintenanceRunResult = {
      id: `${task.name}:${startedAt}:${this.#seq}`,
      task: task.name,
      trigger: options.trigger ?? 'manual',
      dryRun,
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date(startedAt + durationMs).toISOString(),
      durationMs: Math.round(durationMs * 1000) / 1000,
      ok: failure === undefined,
      ...outcome,
      ...(failure === undefined ? {} : { error: errorOf(failure) }),
    };
    this.#record(result);
    if (failure === undefined) {
      log.info(
        { task: task.name, durationMs: result.durationMs, done: result.done },
        'maintenance task ran',
      );
    } else {
      log.error({ task: task.name, err: failure }, 'maintenance task failed');
    }
    try {
      this.#services.onResult?.(result);
    } catch (error) {
      log.error({ err: error }, 'a maintenance result listener threw');
    }
    return result;
  }

  #record(result: MaintenanceRunResult): void {
    const keep = this.#settings?.keepResults ?? 20;
    const list = this.#results.get(result.task) ?? [];
    list.unshift(result);
    list.length = Math.min(list.length, keep);
    this.#results.set(result.task, list);
  }
}

function errorOf(error: unknown): NonNullable<MaintenanceRunResult['error']> {
  if (error instanceof Error) {
    return {
      name: error.name,
      code: error instanceof EnterpriseError ? error.code : (error as { code?: string }).code,
      message: error.message,
    };
  }
  return { name: 'Error', code: undefined, message: String(error) };
}

import type { Duration } from '../core/duration.js';
import { TaskScheduleError } from './errors.js';
import { checkSchedule, scheduleTaskId } from './schedule-checks.js';
import {
  cronSchedule,
  definitionOf,
  everySchedule,
  fromDefinition,
  recordOf,
  recordText,
  type ScheduleDefinition,
  type ScheduleDraft,
  sameDefinition,
} from './schedule-records.js';
import { type RunnableSchedule, type SchedulerHost, SlotRunner } from './schedule-runner.js';
import type { ScheduleInfo, ScheduleOptions } from './schedule-types.js';
import type { StoredSchedule } from './types.js';

export type { ScheduleDefinition, ScheduleInfo, ScheduleOptions };
export { scheduleTaskId };

interface Schedule extends RunnableSchedule {
  kind: 'cron' | 'every';
  cron?: string;
  everyMs?: number;
  timezone?: string;
  origin: 'code' | 'admin';
  state: StoredSchedule['state'];
  /** The stored record this process last applied or wrote, as text. */
  applied?: string;
  /** The value of the scheduler's change counter when this process last changed it. */
  changed: number;
}

/**
 * Periodic tasks. Every process may run the scheduler: each slot is submitted under the id
 * `schedule:<name>:<slot>`, kept taken for two periods after its submission even once the task is
 * gone, so it runs exactly once however many processes submit it and whenever they do. A submit
 * that fails (the store is away) is tried again until the next slot is due.
 *
 * Schedules are also managed at run time, for every process at once: {@link add},
 * {@link pause}, {@link resume}, {@link remove} and {@link runNow} write to the task backend, and
 * every started scheduler reads it again every `tasks.scheduleSync` (5 s). A schedule registered
 * in code is published there too: paused or removed by an operator, it stays so across restarts
 * until resumed; registered with another cron, it updates the stored one.
 *
 * @example
 * ```ts
 * scheduler.schedulePeriodic('0 2 * * *', 'database_optimization', 'optimize_database', undefined, { timezone: 'Europe/Paris' });
 * scheduler.scheduleEvery('5m', 'refresh_rates', 'refresh_exchange_rates');
 * await scheduler.pause('refresh_rates'); // in every process, until resumed
 * ```
 */
export class Scheduler {
  readonly #host: SchedulerHost;
  readonly #runner: SlotRunner;
  readonly #schedules = new Map<string, Schedule>();
  #started = false;
  /** Timers run once the first read of the stored schedules settled (a pause must hold at start). */
  #armed = false;
  #sync: NodeJS.Timeout | undefined;
  #syncing: Promise<void> | undefined;
  /** Counts this process's changes, so a read that began before one does not undo it. */
  #changes = 0;
  /** Schedules this process removed, with the change count then (a read may predate it). */
  readonly #dropped = new Map<string, number>();
  /** Schedules registered in code by other processes only, as last read: listed, never run here. */
  #elsewhere = new Map<string, ScheduleDraft & { state: StoredSchedule['state'] }>();

  /** @internal */
  constructor(host: SchedulerHost) {
    this.#host = host;
    this.#runner = new SlotRunner(
      host,
      (schedule) =>
        this.#armed &&
        this.#schedules.get(schedule.name) === schedule &&
        (schedule as Schedule).state === 'active',
    );
  }

  /**
   * Submits `taskName` at every slot of a cron expression (5 fields, or 6 with seconds first).
   * Scheduling a name again replaces the schedule.
   *
   * @throws TaskScheduleError for an expression or time zone that does not parse.
   * @example
   * ```ts
   * scheduler.schedulePeriodic('0 2 * * *', 'database_optimization', 'optimize_database', { full: true }, { timezone: 'UTC' });
   * ```
   */
  schedulePeriodic(
    cron: string,
    scheduleName: string,
    taskName: string,
    payload?: unknown,
    options: ScheduleOptions = {},
  ): ScheduleInfo {
    return this.#info(
      this.#put(cronSchedule(cron, scheduleName, taskName, payload, options), 'code'),
    );
  }

  /**
   * Submits `taskName` every `interval` (seconds, or a string with a unit). Slots are aligned to
   * multiples of the interval since the epoch, so every process agrees on them.
   *
   * @example
   * ```ts
   * scheduler.scheduleEvery('30s', 'poll_feeds', 'poll_rss_feeds');
   * ```
   */
  scheduleEvery(
    interval: Duration,
    scheduleName: string,
    taskName: string,
    payload?: unknown,
    options: ScheduleOptions = {},
  ): ScheduleInfo {
    const schedule = everySchedule(interval, scheduleName, taskName, payload, options);
    return this.#info(this.#put(schedule, 'code'));
  }

  /**
   * Removes a schedule from this process only (code that no longer wants it); resolves whether
   * there was one. Tasks already submitted still run. To remove it everywhere, use {@link remove}.
   *
   * @example
   * ```ts
   * scheduler.unschedule('database_optimization');
   * ```
   */
  unschedule(scheduleName: string): boolean {
    const schedule = this.#schedules.get(scheduleName);
    if (schedule === undefined) return false;
    this.#runner.disarm(schedule);
    this.#schedules.delete(scheduleName);
    return true;
  }

  /**
   * The schedules with their next run; `includeRemoved` adds the code schedules an operator
   * removed (they come back with {@link resume}).
   *
   * @example
   * ```ts
   * for (const s of scheduler.list()) console.log(s.name, s.paused, s.nextRunAt.toISOString());
   * ```
   */
  list(options: { includeRemoved?: boolean } = {}): ScheduleInfo[] {
    const mine = [...this.#schedules.values()].map((s) => this.#info(s));
    const theirs = [...this.#elsewhere.values()]
      .filter((s) => !this.#schedules.has(s.name))
      .map((s) =>
        this.#info({ ...s, timer: undefined, nextAt: undefined, origin: 'code', changed: 0 }),
      );
    return [...mine, ...theirs].filter((s) => options.includeRemoved === true || !s.removed);
  }

  /**
   * Adds (or replaces) a schedule at run time, in every process: it is stored in the task backend
   * and kept across restarts until removed. A name registered in code cannot be added over; pause,
   * resume or remove it instead.
   *
   * @throws TaskScheduleError for an invalid definition or a name registered in code.
   * @example
   * ```ts
   * await scheduler.add({ name: 'weekly_report', task: 'generate_analytics_report', cron: '0 7 * * 1' });
   * ```
   */
  async add(definition: ScheduleDefinition): Promise<ScheduleInfo> {
    const schedule = fromDefinition(definition);
    const backend = await this.#host.backend();
    const stored = (await backend.schedules()).find((r) => r.name === schedule.name);
    if (this.#schedules.get(schedule.name)?.origin === 'code' || stored?.origin === 'code') {
      throw new TaskScheduleError(
        `schedule ${schedule.name} is registered in code: pause, resume or remove it instead`,
        { scheduleName: schedule.name },
      );
    }
    const record = recordOf(schedule, 'admin', 'active');
    this.#changes++;
    this.#dropped.delete(schedule.name);
    await backend.saveSchedule(record);
    const added = this.#apply(schedule, record);
    added.changed = this.#changes;
    return this.#info(added);
  }

  /**
   * Pauses a schedule in every process (and across restarts) until {@link resume}; resolves
   * whether it exists.
   *
   * @example
   * ```ts
   * await scheduler.pause('nightly_digest');
   * ```
   */
  pause(name: string): Promise<boolean> {
    return this.#setState(name, 'paused');
  }

  /**
   * Resumes a paused schedule, or brings back a code schedule an operator removed; resolves
   * whether it exists.
   *
   * @example
   * ```ts
   * await scheduler.resume('nightly_digest');
   * ```
   */
  resume(name: string): Promise<boolean> {
    return this.#setState(name, 'active');
  }

  /**
   * Removes a schedule from every process: one added at run time is deleted; one registered in
   * code is kept removed (across restarts) until {@link resume}. Resolves whether it existed.
   *
   * @example
   * ```ts
   * await scheduler.remove('weekly_report');
   * ```
   */
  async remove(name: string): Promise<boolean> {
    const backend = await this.#host.backend();
    const stored = (await backend.schedules()).find((r) => r.name === name);
    const local = this.#schedules.get(name);
    if ((local?.origin ?? stored?.origin) === 'code') return this.#setState(name, 'removed');
    this.#changes++;
    this.#dropped.set(name, this.#changes);
    const deleted = await backend.deleteSchedule(name);
    return this.unschedule(name) || deleted;
  }

  /**
   * Submits the schedule's task now, once, outside its slots (paused schedules too); resolves the
   * task id.
   *
   * @throws TaskScheduleError when no schedule has this name.
   * @example
   * ```ts
   * const id = await scheduler.runNow('database_optimization');
   * ```
   */
  async runNow(name: string): Promise<string> {
    const schedule = this.#schedules.get(name) ?? this.#elsewhere.get(name);
    if (schedule === undefined) {
      throw new TaskScheduleError(`no schedule is named ${JSON.stringify(name)}`, {
        scheduleName: name,
      });
    }
    const { timezone: _tz, catchUp: _catchUp, ...options } = schedule.options;
    const { id } = await this.#host.submit(schedule.taskName, schedule.payload, {
      ...options,
      allowUnknown: true,
    });
    return id;
  }

  /**
   * Reads the stored schedules now and applies what other processes changed (done every
   * `tasks.scheduleSync` while started). Resolves when applied; rejects when the backend cannot
   * be read.
   *
   * @example
   * ```ts
   * await scheduler.sync();
   * ```
   */
  sync(): Promise<void> {
    this.#syncing ??= this.#read().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  /** @internal Arms every schedule, catches up missed slots, follows the stored schedules. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const sync = () =>
      this.sync().catch((error: unknown) => {
        this.#host.log.warn({ err: error }, 'reading the stored schedules failed');
      });
    // Armed after the first read: a schedule paused by an operator must not run its catch-up.
    void sync().then(() => {
      if (!this.#started || this.#armed) return;
      this.#armed = true;
      for (const schedule of this.#schedules.values()) {
        if (schedule.state === 'active') this.#runner.begin(schedule);
      }
    });
    this.#sync = setInterval(sync, this.#host.syncMs ?? 5_000);
    this.#sync.unref?.();
  }

  /** @internal Stops every timer; schedules are kept. */
  stop(): void {
    this.#started = false;
    this.#armed = false;
    if (this.#sync !== undefined) clearInterval(this.#sync);
    this.#sync = undefined;
    for (const schedule of this.#schedules.values()) this.#runner.disarm(schedule);
  }

  /** Registers a schedule from code or from a record, replacing one of the same name. */
  #put(fresh: ScheduleDraft, origin: Schedule['origin']): Schedule {
    checkSchedule(fresh.name, fresh.taskName, fresh.payload, fresh.options);
    const previous = this.#schedules.get(fresh.name);
    const schedule: Schedule = {
      ...fresh,
      timer: undefined,
      nextAt: undefined,
      origin,
      // Code registering a schedule again keeps what an operator decided about it.
      state: previous?.origin === origin ? previous.state : 'active',
      changed: 0,
    };
    if (previous?.applied !== undefined && origin === 'code') schedule.applied = previous.applied;
    this.unschedule(fresh.name);
    this.#schedules.set(schedule.name, schedule);
    if (this.#armed && schedule.state === 'active') this.#runner.begin(schedule);
    if (origin === 'code' && this.#armed) void this.sync().catch(() => undefined);
    return schedule;
  }

  /** Applies a stored record: the admin schedule it defines, or the state of a code schedule. */
  #apply(fresh: ScheduleDraft | undefined, record: StoredSchedule): Schedule {
    let schedule = this.#schedules.get(record.name);
    if (fresh !== undefined) schedule = this.#put(fresh, record.origin);
    const s = schedule!;
    s.applied = recordText(record);
    this.#changeState(s, record.state);
    return s;
  }

  #changeState(schedule: Schedule, state: Schedule['state']): void {
    if (schedule.state === state) return;
    schedule.state = state;
    this.#runner.disarm(schedule);
    if (state === 'active' && this.#armed) this.#runner.begin(schedule);
  }

  async #setState(name: string, state: Schedule['state']): Promise<boolean> {
    const backend = await this.#host.backend();
    const local = this.#schedules.get(name);
    let record = (await backend.schedules()).find((r) => r.name === name);
    if (record === undefined && local === undefined) return false;
    record = {
      ...(record ?? recordOf(local!, local!.origin, 'active')),
      state,
      updatedAt: Date.now(),
    };
    if (record.origin === 'admin' && state === 'removed') return this.remove(name);
    this.#changes++;
    await backend.saveSchedule(record);
    if (local !== undefined) {
      local.changed = this.#changes;
      local.applied = recordText(record);
      this.#changeState(local, state);
    }
    return true;
  }

  /** One read of the stored schedules (see {@link sync}). */
  async #read(): Promise<void> {
    const backend = await this.#host.backend();
    const before = this.#changes;
    const records = new Map((await backend.schedules()).map((r) => [r.name, r]));
    for (const schedule of [...this.#schedules.values()]) {
      // Changed here while the read was on its way: the read may predate the change.
      if (schedule.changed > before) continue;
      const record = records.get(schedule.name);
      records.delete(schedule.name);
      if (schedule.origin === 'admin') {
        if (record === undefined) this.unschedule(schedule.name);
        else if (recordText(record) !== schedule.applied) this.#fromRecord(record);
        continue;
      }
      if (record === undefined || !sameDefinition(record, schedule) || record.origin !== 'code') {
        // Published, or updated: code is the definition of a code schedule; the state stays.
        const state = record?.state ?? schedule.state;
        const mine = recordOf(schedule, 'code', state);
        await backend.saveSchedule(mine);
        schedule.applied = recordText(mine);
        this.#changeState(schedule, state);
      } else if (recordText(record) !== schedule.applied) {
        schedule.applied = recordText(record);
        this.#changeState(schedule, record.state);
      }
    }
    for (const [name, at] of this.#dropped) if (at <= before) this.#dropped.delete(name);
    const elsewhere = new Map<string, ScheduleDraft & { state: StoredSchedule['state'] }>();
    for (const record of records.values()) {
      if (this.#dropped.has(record.name)) continue;
      if (record.origin === 'admin') {
        if (record.state !== 'removed') this.#fromRecord(record);
        continue;
      }
      try {
        elsewhere.set(record.name, {
          ...fromDefinition(definitionOf(record)),
          state: record.state,
        });
      } catch {
        // Unreadable: another release's record this one cannot parse; left to that release.
      }
    }
    this.#elsewhere = elsewhere;
  }

  #fromRecord(record: StoredSchedule): void {
    try {
      this.#apply(fromDefinition(definitionOf(record)), record);
    } catch (error) {
      this.#host.log.error(
        { err: error, schedule: record.name },
        'a stored schedule cannot be read; it is left out',
      );
    }
  }

  #info(s: Schedule): ScheduleInfo {
    const info: ScheduleInfo = {
      name: s.name,
      taskName: s.taskName,
      queue: s.options.queue,
      kind: s.kind,
      nextRunAt: new Date(s.nextAt ?? s.next(Date.now())),
      origin: s.origin,
      paused: s.state === 'paused',
    };
    if (s.state === 'removed') info.removed = true;
    if (s.cron !== undefined) info.cron = s.cron;
    if (s.everyMs !== undefined) info.everyMs = s.everyMs;
    if (s.timezone !== undefined) info.timezone = s.timezone;
    if (s.lastRunAt !== undefined) info.lastRunAt = new Date(s.lastRunAt);
    if (s.lastTaskId !== undefined) info.lastTaskId = s.lastTaskId;
    return info;
  }
}

// A schedule as the backend keeps it for every process (StoredSchedule), and back: the scheduler
// publishes the definitions of code schedules and reads those added by operators.
import type { Duration } from '../core/duration.js';
import { TaskScheduleError } from './errors.js';
import { checkSchedule } from './schedule-checks.js';
import { checkTimezone, cronSlots, intervalSlots, type ScheduleSlots } from './schedule-slots.js';
import type { ScheduleOptions } from './schedule-types.js';
import type { StoredSchedule } from './types.js';

/**
 * A schedule added at run time, from the API, the monitoring router or the command line: a cron
 * expression or an interval, the task to submit, and the task's options.
 *
 * @example
 * ```ts
 * await enterprise.tasks.scheduler.add({
 *   name: 'nightly_digest',
 *   task: 'send_digest',
 *   cron: '0 6 * * *',
 *   payload: { list: 'all' },
 *   options: { timezone: 'Europe/Paris', queue: 'mail' },
 * });
 * ```
 */
export interface ScheduleDefinition {
  name: string;
  /** The task name to submit at each slot. */
  task: string;
  /** A cron expression (5 fields, or 6 with seconds first). Give `cron` or `every`. */
  cron?: string;
  /** An interval (seconds, or a string with a unit). Give `cron` or `every`. */
  every?: Duration;
  payload?: unknown;
  options?: ScheduleOptions;
}

/** The part of a schedule a record carries. */
export interface ScheduleShape {
  name: string;
  taskName: string;
  payload: unknown;
  options: object;
  kind: 'cron' | 'every';
  cron?: string;
  everyMs?: number;
  timezone?: string;
}

/** @internal The record of `schedule` in `state`. */
export function recordOf(
  schedule: ScheduleShape,
  origin: StoredSchedule['origin'],
  state: StoredSchedule['state'],
): StoredSchedule {
  const record: StoredSchedule = {
    name: schedule.name,
    taskName: schedule.taskName,
    kind: schedule.kind,
    options: JSON.stringify(schedule.options),
    origin,
    state,
    updatedAt: Date.now(),
  };
  if (schedule.cron !== undefined) record.cron = schedule.cron;
  if (schedule.everyMs !== undefined) record.everyMs = schedule.everyMs;
  if (schedule.timezone !== undefined) record.timezone = schedule.timezone;
  if (schedule.payload !== undefined) record.payload = JSON.stringify(schedule.payload);
  return record;
}

/** @internal Whether a record describes the same schedule as `schedule` (state aside). */
export function sameDefinition(record: StoredSchedule, schedule: ScheduleShape): boolean {
  const mine = recordOf(schedule, record.origin, record.state);
  return (
    record.taskName === mine.taskName &&
    record.kind === mine.kind &&
    record.cron === mine.cron &&
    record.everyMs === mine.everyMs &&
    record.timezone === mine.timezone &&
    record.payload === mine.payload &&
    record.options === mine.options
  );
}

/** @internal A definition from a record (throws when the record is not readable JSON). */
export function definitionOf(record: StoredSchedule): ScheduleDefinition {
  const options = JSON.parse(record.options) as Record<string, unknown>;
  const definition: ScheduleDefinition = {
    name: record.name,
    task: record.taskName,
    options: record.timezone === undefined ? options : { ...options, timezone: record.timezone },
  };
  if (record.kind === 'cron') definition.cron = record.cron;
  else definition.every = `${Number(record.everyMs)}ms`;
  if (record.payload !== undefined) definition.payload = JSON.parse(record.payload);
  return definition;
}

/** @internal The whole record as one comparable text (what a process last applied). */
export function recordText(record: StoredSchedule): string {
  return JSON.stringify(record);
}

/** @internal A schedule before the scheduler holds it: its definition and its slots. */
export interface ScheduleDraft extends ScheduleShape, ScheduleSlots {
  options: ScheduleOptions;
}

/** @internal The draft of a cron schedule (throws TaskScheduleError when it does not parse). */
export function cronSchedule(
  cron: string,
  name: string,
  taskName: string,
  payload: unknown,
  options: ScheduleOptions,
): ScheduleDraft {
  const timezone = checkTimezone(options.timezone);
  const schedule: ScheduleDraft = {
    name,
    taskName,
    payload,
    options,
    kind: 'cron',
    cron,
    ...cronSlots(cron, timezone),
  };
  if (timezone !== undefined) schedule.timezone = timezone;
  return schedule;
}

/** @internal The draft of an interval schedule. */
export function everySchedule(
  interval: Duration,
  name: string,
  taskName: string,
  payload: unknown,
  options: ScheduleOptions,
): ScheduleDraft {
  return { name, taskName, payload, options, kind: 'every', ...intervalSlots(interval) };
}

/** @internal The draft of a schedule added at run time (throws TaskScheduleError). */
export function fromDefinition(d: ScheduleDefinition): ScheduleDraft {
  if (d === null || typeof d !== 'object') {
    throw new TaskScheduleError('a schedule definition must be an object', {});
  }
  const options = d.options ?? {};
  if ((d.cron === undefined) === (d.every === undefined)) {
    throw new TaskScheduleError(`schedule ${d.name}: give exactly one of cron and every`, {
      scheduleName: d.name,
    });
  }
  const schedule =
    d.cron !== undefined
      ? cronSchedule(d.cron, d.name, d.task, d.payload, options)
      : everySchedule(d.every!, d.name, d.task, d.payload, options);
  checkSchedule(schedule.name, schedule.taskName, schedule.payload, schedule.options);
  return schedule;
}

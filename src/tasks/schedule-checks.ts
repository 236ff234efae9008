// What a schedule must satisfy to be kept: a usable name, a valid task name and options, a
// payload that encodes. Shared by schedules registered in code and those added at run time.
import { describeValue } from '../core/errors.js';
import { TaskScheduleError } from './errors.js';
import { encodeJson } from './payload.js';
import type { ScheduleOptions } from './schedule-types.js';
import { checkDefinitionOptions, checkTaskId, checkTaskName } from './validate.js';

/**
 * The task id of a schedule's slot: the same in every process, so a slot submitted by several
 * processes (or again by one) is one task.
 */
export function scheduleTaskId(scheduleName: string, slot: number): string {
  return `schedule:${scheduleName}:${slot}`;
}

/** @internal Throws {@link TaskScheduleError} naming what is wrong with the schedule. */
export function checkSchedule(
  name: unknown,
  taskName: unknown,
  payload: unknown,
  options: ScheduleOptions,
): void {
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
    throw new TaskScheduleError(
      `scheduleName=${describeValue(name)} is invalid: expected a non-empty name of at most 200 characters`,
      { scheduleName: name },
    );
  }
  try {
    // The id of a slot far in the future must still be a valid task id.
    checkTaskId(scheduleTaskId(name, 10 ** 15), 'scheduleName');
  } catch {
    throw new TaskScheduleError(
      `scheduleName=${describeValue(name)} is too long: the task id of its slots (${describeValue(scheduleTaskId(name, 10 ** 15))}) would pass the 200-character limit of task ids; use a name of at most ${200 - scheduleTaskId('', 10 ** 15).length} characters`,
      { scheduleName: name },
    );
  }
  try {
    checkTaskName(taskName, 'taskName');
    checkDefinitionOptions(options, 'options');
    encodeJson(payload, 'payload');
  } catch (error) {
    throw new TaskScheduleError(
      `schedule ${name}: ${(error as Error).message}`,
      { scheduleName: name },
      error,
    );
  }
  if (options.catchUp !== undefined && typeof options.catchUp !== 'boolean') {
    throw new TaskScheduleError(
      `schedule ${name}: catchUp=${describeValue(options.catchUp)} is invalid: expected a boolean`,
      { scheduleName: name },
    );
  }
}

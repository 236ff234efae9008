import { type Duration, parseDuration } from '../core/duration.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import type { TaskDefinitionOptions } from './api-types.js';
import { resolveBackoff } from './backoff.js';
import { TaskGroupError, TaskLimitError } from './errors.js';
import type { RateLimitSpec } from './types.js';

const QUEUE = /^[A-Za-z0-9_.:-]{1,100}$/;

function invalid(argument: string, value: unknown, expected: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `${argument}=${describeValue(value)} is invalid: expected ${expected}`,
    { argument, value, expected },
  );
}

/** @internal A task name: 1 to 200 characters. */
export function checkTaskName(name: unknown, argument = 'name'): string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
    throw invalid(argument, name, 'a non-empty task name of at most 200 characters');
  }
  return name;
}

/** @internal A queue name, as TASK_QUEUE_NAME accepts. */
export function checkQueue(queue: unknown, argument = 'queue'): string {
  if (typeof queue !== 'string' || !QUEUE.test(queue)) {
    throw invalid(argument, queue, 'a name of 1 to 100 characters from [A-Za-z0-9_.:-]');
  }
  return queue;
}

/** @internal A priority: a whole number from 0 to 100. */
export function checkPriority(priority: unknown, argument = 'priority'): number {
  if (
    typeof priority !== 'number' ||
    !Number.isInteger(priority) ||
    priority < 0 ||
    priority > 100
  ) {
    throw invalid(
      argument,
      priority,
      'a whole number from 0 (most urgent) to 100, or a TaskPriority',
    );
  }
  return priority;
}

/** @internal A number of retries. */
export function checkRetries(value: unknown, argument = 'maxRetries'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1_000) {
    throw invalid(argument, value, 'a whole number of retries from 0 to 1000');
  }
  return value;
}

/** @internal A task id: 1 to 200 characters. */
export function checkTaskId(id: unknown, argument = 'id'): string {
  if (typeof id !== 'string' || id === '' || id.length > 200) {
    throw invalid(argument, id, 'a non-empty string of at most 200 characters');
  }
  return id;
}

/** @internal Checks the options a handler is registered with; throws on the first bad one. */
export function checkDefinitionOptions(
  options: TaskDefinitionOptions | undefined,
  argument = 'options',
): TaskDefinitionOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') {
    throw invalid(argument, options, 'an object');
  }
  if (options.queue !== undefined) checkQueue(options.queue, `${argument}.queue`);
  if (options.priority !== undefined) checkPriority(options.priority, `${argument}.priority`);
  if (options.maxRetries !== undefined) checkRetries(options.maxRetries, `${argument}.maxRetries`);
  if (options.timeout !== undefined) parseDuration(options.timeout, `${argument}.timeout`);
  if (options.backoff !== undefined)
    resolveBackoff(options.backoff, undefined, `${argument}.backoff`);
  return options;
}

const GROUP = /^[A-Za-z0-9_.:@/+=-]+$/;
/** The task id limit a group name counts toward (`id` + `group` at most this long). */
const ID_LIMIT = 200;

/**
 * @internal A group name: 1 or more characters from `[A-Za-z0-9_.:@/+=-]`, at most 200 minus the
 * task id's length (`idLength`, 0 when checked alone).
 */
export function checkGroup(group: unknown, argument = 'group', idLength = 0): string {
  if (typeof group !== 'string' || group === '') {
    throw new TaskGroupError(
      `${argument}=${describeValue(group)} is invalid: expected a non-empty group name`,
      {
        argument,
        value: group,
      },
    );
  }
  if (group.length + idLength > ID_LIMIT) {
    throw new TaskGroupError(
      `${argument} is ${group.length} characters long; with the task id (${idLength}) it must stay within ${ID_LIMIT}`,
      { argument, length: group.length, idLength, limit: ID_LIMIT },
    );
  }
  if (!GROUP.test(group)) {
    throw new TaskGroupError(
      `${argument}=${describeValue(group)} has a forbidden character: expected [A-Za-z0-9_.:@/+=-]`,
      { argument, value: group },
    );
  }
  return group;
}

/** A rate limit as options take it: `limit` starts per `per` (seconds or a string with a unit). */
export interface RateLimitOptions {
  /** Starts per window: a positive whole number. */
  limit: number;
  /** The window: seconds or a string with a unit (`'1s'`, `'500ms'`, `'1m'`). */
  per: Duration;
}

/** @internal Checks a rate limit; resolves it to a limit and window in milliseconds. */
export function checkRateLimit(value: unknown, argument = 'rateLimit'): RateLimitSpec {
  if (value === null || typeof value !== 'object') {
    throw new TaskLimitError(
      `${argument}=${describeValue(value)} is not an object { limit, per }`,
      {
        argument,
        value,
      },
    );
  }
  const { limit, per } = value as { limit?: unknown; per?: unknown };
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0) {
    throw new TaskLimitError(
      `${argument}.limit=${describeValue(limit)} is invalid: expected a positive whole number`,
      { argument: `${argument}.limit`, value: limit },
    );
  }
  let perMs: number;
  try {
    perMs = parseDuration(per, `${argument}.per`);
  } catch {
    throw new TaskLimitError(
      `${argument}.per=${describeValue(per)} is invalid: expected a positive duration`,
      { argument: `${argument}.per`, value: per },
    );
  }
  if (!(perMs >= 1)) {
    throw new TaskLimitError(
      `${argument}.per=${describeValue(per)} is invalid: expected a positive duration of at least 1 ms`,
      { argument: `${argument}.per`, value: per },
    );
  }
  return { limit, perMs: Math.round(perMs) };
}

/** @internal A positive number (a weight) or a whole number >= 0 (a cap). */
export function checkPositive(value: unknown, argument: string, whole: boolean): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (whole ? Number.isInteger(value) && value >= 0 : value > 0);
  if (!ok) {
    throw new TaskLimitError(
      `${argument}=${describeValue(value)} is invalid: expected ${whole ? 'a whole number >= 0 (0: no cap)' : 'a positive number'}`,
      { argument, value },
    );
  }
  return value as number;
}

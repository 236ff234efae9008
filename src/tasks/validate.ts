import { parseDuration } from '../core/duration.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import type { TaskDefinitionOptions } from './api-types.js';
import { resolveBackoff } from './backoff.js';

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

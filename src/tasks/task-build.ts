import { parseDuration } from '../core/duration.js';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import { uuid } from '../core/uuid.js';
import type { SubmitOptions } from './api-types.js';
import { resolveBackoff } from './backoff.js';
import { TaskPayloadError, TaskUnknownError } from './errors.js';
import { encodeJson } from './payload.js';
import { TaskPriority } from './priority.js';
import { handlerRegistry, type TaskDefinition } from './registry.js';
import type { TaskSettings } from './settings.js';
import type { NewTask } from './types.js';
import {
  checkGroup,
  checkPriority,
  checkQueue,
  checkRetries,
  checkTaskId,
  checkTaskName,
} from './validate.js';

/** @internal The definition of task `name`: the instance's (`local`), else the process-wide one. */
export function definitionOf(
  local: ReadonlyMap<string, TaskDefinition>,
  name: string,
): TaskDefinition | undefined {
  return local.get(name) ?? handlerRegistry().definitions.get(name);
}

/** The library's own tasks (alert deliveries, scheduled reports) are named under this prefix. */
const INTERNAL_TASK_PREFIX = 'enterprise.';

function hasApplicationHandler(names: Iterable<string>): boolean {
  for (const name of names) if (!name.startsWith(INTERNAL_TASK_PREFIX)) return true;
  return false;
}

/**
 * @internal Whether a submission of a task no handler is registered for is refused: with
 * `strictNames`, once this process registered a handler of its own. The library's handlers (the
 * alerts module delivers through one in every process) do not make a web process that only
 * submits strict.
 */
export function strictNames(
  settings: TaskSettings,
  local: ReadonlyMap<string, TaskDefinition>,
): boolean {
  return (
    settings.strictNames &&
    (hasApplicationHandler(local.keys()) ||
      hasApplicationHandler(handlerRegistry().definitions.keys()))
  );
}

/**
 * @internal The task a submission stores: its options checked and merged over the definition's
 * and the settings' defaults, its payload encoded and held to the size limit. `at` names the
 * submission in errors (`submissions[3]`), or is empty for a single one; `local` holds the
 * handlers registered on the instance.
 */
export function buildTask(
  name: string,
  payload: unknown,
  options: SubmitOptions,
  now: number,
  at: string,
  settings: TaskSettings,
  local: ReadonlyMap<string, TaskDefinition>,
): NewTask {
  const where = (what: string) => (at === '' ? what : `${at}.${what}`);
  checkTaskName(name, where('name'));
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError(
      `${where('options')}=${describeValue(options)} is not an object`,
      {
        argument: where('options'),
        value: options,
        expected: 'an object',
      },
    );
  }
  const definition = definitionOf(local, name);
  if (definition === undefined && options.allowUnknown !== true && strictNames(settings, local)) {
    throw new TaskUnknownError(
      `no handler is registered for task "${name}" in this process; register it (@BackgroundTask, backgroundTask(), tasks.register()), fix the name, or pass allowUnknown: true when another process handles it`,
      { name },
    );
  }
  const defaults = definition?.options ?? {};
  const o = { ...defaults, ...stripUndefined(options) };
  const queue = checkQueue(o.queue ?? settings.queueName, where('options.queue'));
  const priority = checkPriority(o.priority ?? TaskPriority.NORMAL, where('options.priority'));
  const maxRetries = checkRetries(o.maxRetries ?? settings.maxRetries, where('options.maxRetries'));
  const timeoutMs =
    o.timeout === undefined
      ? settings.timeoutMs
      : parseDuration(o.timeout, where('options.timeout'));
  const backoff =
    o.backoff === undefined
      ? settings.backoff
      : resolveBackoff(o.backoff, settings.backoff, where('options.backoff'));
  let runAt = now;
  if (o.runAt !== undefined) {
    const at = o.runAt instanceof Date ? o.runAt.getTime() : o.runAt;
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      throw new InvalidArgumentError(
        `${where('options.runAt')}=${describeValue(o.runAt)} is invalid`,
        {
          argument: where('options.runAt'),
          value: o.runAt,
          expected: 'a Date or epoch milliseconds',
        },
      );
    }
    runAt = at;
  } else if (o.delay !== undefined) {
    runAt = now + parseDuration(o.delay, where('options.delay'));
  }
  const dependsOn = o.dependsOn ?? [];
  if (!Array.isArray(dependsOn)) {
    throw new InvalidArgumentError(
      `${where('options.dependsOn')}=${describeValue(dependsOn)} is not an array`,
      {
        argument: where('options.dependsOn'),
        value: dependsOn,
        expected: 'an array of task ids',
      },
    );
  }
  dependsOn.forEach((dep, i) => {
    checkTaskId(dep, where(`options.dependsOn[${i}]`));
  });
  const failOnDependencyFailure = o.failOnDependencyFailure ?? true;
  if (typeof failOnDependencyFailure !== 'boolean') {
    throw new InvalidArgumentError(
      `${where('options.failOnDependencyFailure')}=${describeValue(failOnDependencyFailure)} is not a boolean`,
      {
        argument: where('options.failOnDependencyFailure'),
        value: failOnDependencyFailure,
        expected: 'a boolean',
      },
    );
  }
  const id = o.id === undefined ? uuid() : checkTaskId(o.id, where('options.id'));
  const uniqueForMs =
    o.uniqueFor === undefined ? 0 : parseDuration(o.uniqueFor, where('options.uniqueFor'));
  const text = encodeJson(payload, 'payload');
  const limit = settings.maxPayloadBytes;
  // A UTF-8 character takes at most 3 bytes per UTF-16 unit: most payloads skip the count.
  if (text.length * 3 > limit) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > limit) {
      throw new TaskPayloadError(
        `${where('payload')} of task "${name}" is ${bytes} bytes as JSON, over the limit of ${limit} bytes (tasks.maxPayloadBytes); pass an id or a reference the handler can load instead, or raise tasks.maxPayloadBytes`,
        { name, bytes, limit },
      );
    }
  }
  const task: NewTask = {
    id,
    name,
    queue,
    payload: text,
    priority,
    runAt,
    maxRetries,
    backoff,
    timeoutMs,
    dependsOn: [...new Set(dependsOn)],
    failOnDependencyFailure,
    createdAt: now,
  };
  if (uniqueForMs > 0) task.uniqueForMs = uniqueForMs;
  if (o.group !== undefined) task.group = checkGroup(o.group, where('options.group'), id.length);
  return task;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] !== undefined) out[key] = value[key];
  }
  return out;
}

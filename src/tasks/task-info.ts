import type { TaskInfo } from './api-types.js';
import { decodeJson } from './payload.js';
import type { TaskRecord } from './types.js';

/** A stored text parsed as JSON, or the text itself when it is not JSON. */
function parseOrText(text: string | undefined): unknown {
  try {
    return decodeJson(text);
  } catch {
    return text;
  }
}

/** A backend record as users see it. */
export function toInfo(record: TaskRecord): TaskInfo {
  const info: TaskInfo = {
    id: record.id,
    name: record.name,
    queue: record.queue,
    state: record.state,
    payload: parseOrText(record.payload),
    priority: record.priority,
    attempts: record.attempts,
    maxRetries: record.maxRetries,
    dependsOn: record.dependsOn,
    createdAt: new Date(record.createdAt),
    runAt: new Date(record.runAt),
  };
  if (record.result !== undefined) info.result = parseOrText(record.result);
  if (record.error !== undefined) info.error = record.error;
  if (record.progress !== undefined) info.progress = parseOrText(record.progress);
  if (record.pendingDependencies !== undefined)
    info.pendingDependencies = record.pendingDependencies;
  if (record.workerId !== undefined) info.workerId = record.workerId;
  if (record.group !== undefined) info.group = record.group;
  if (record.startedAt !== undefined) info.startedAt = new Date(record.startedAt);
  if (record.finishedAt !== undefined) info.finishedAt = new Date(record.finishedAt);
  if (record.trace !== undefined) info.trace = record.trace;
  return info;
}

/** @internal The error a task failed with, rebuilt from its stored description. */
export function rebuildError(info: {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}): Error {
  const error = new Error(info.message);
  error.name = info.name;
  if (info.stack !== undefined) error.stack = info.stack;
  if (info.code !== undefined) (error as Error & { code?: string }).code = info.code;
  return error;
}

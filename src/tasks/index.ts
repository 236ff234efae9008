export type * from './api-types.js';
export {
  MemoryTaskBackend,
  type MemoryTaskBackendOptions,
  memoryTaskBackend,
  memoryTaskBackend as memoryBackend,
} from './backends/memory.js';
export {
  RedisTaskBackend,
  type RedisTaskBackendOptions,
  redisTaskBackend,
  TaskBackendError,
  type TaskStoreCleanupOptions,
  type TaskStoreCleanupReport,
} from './backends/redis.js';
export { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export { scheduler, submitTask, submitTasks, tasks } from './default-tasks.js';
export {
  TaskDependencyError,
  TaskFailedError,
  TaskGroupError,
  TaskLimitError,
  TaskPayloadError,
  TaskRateLimitedError,
  TaskSandboxCloneError,
  TaskSandboxCrashError,
  TaskSandboxFileError,
  TaskScheduleError,
  TaskSubmitIncompleteError,
  TaskTimeoutError,
  TaskUnknownError,
  TaskWaitTimeoutError,
} from './errors.js';
export {
  type DeadLetters,
  type TaskLookupOptions,
  TaskManager,
  type TaskStartOptions,
  type WaitForOptions,
} from './manager.js';
export type { TaskOptions } from './options.js';
export { TaskPriority, type TaskPriorityValue } from './priority.js';
export {
  BackgroundTask,
  backgroundTask,
  registerTaskHandlers,
  type SandboxedTask,
  type TaskFunction,
  unregisterTask,
} from './registry.js';
export { DEFAULT_RETENTION, type RetentionOptions } from './retention.js';
export type {
  BackgroundTaskOptions,
  SandboxedTaskOptions,
  SandboxLogMethod,
  SandboxOption,
  SandboxOptions,
  SandboxSpec,
  SandboxTaskContext,
} from './sandbox/spec.js';
export {
  type ScheduleDefinition,
  type ScheduleInfo,
  type ScheduleOptions,
  Scheduler,
} from './scheduler.js';
export { type GroupOptions, type QueueLimitOptions, TaskGroups } from './task-groups.js';
export type * from './types.js';
export type { RateLimitOptions } from './validate.js';

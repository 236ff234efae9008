import { InvalidArgumentError } from '../core/errors.js';
import type { Emitter } from '../core/events.js';
import type { Tracer } from '../performance/tracer.js';
import type { SubmitOptions, TaskEvents, TaskSubmission } from './api-types.js';
import type { TaskDefinition } from './registry.js';
import type { TaskSettings } from './settings.js';
import { addInBatches, checkBatchDependencies } from './submit-batches.js';
import { buildTask } from './task-build.js';
import { traceSubmission } from './task-tracing.js';
import type { NewTask, TaskBackend } from './types.js';

/** @internal One task of a submission, its options defaulted. */
export interface Submission {
  name: string;
  payload: unknown;
  options: SubmitOptions;
}

/** @internal What submitting reports to: the task manager, with its backend and events. */
export interface SubmitTarget extends Emitter<TaskEvents> {
  backend(): Promise<TaskBackend>;
}

/** @internal The submissions of `submitMany`, each checked to be an object; throws otherwise. */
export function submissionEntries(submissions: readonly TaskSubmission[]): Submission[] {
  return submissions.map((s, i) => {
    if (s === null || typeof s !== 'object') {
      throw new InvalidArgumentError(`submissions[${i}] is not an object`, {
        argument: `submissions[${i}]`,
        value: s,
        expected: '{ name, payload, options }',
      });
    }
    return { name: s.name, payload: s.payload, options: s.options ?? {} };
  });
}

/**
 * @internal Builds, checks and stores the tasks of one call, and emits `submitted` for each one
 * it created; resolves each one's id and whether this call created it. With a `tracer`, the
 * tasks carry the trace context of the submission (its producer span's, with OpenTelemetry).
 */
export async function submitTasks(
  manager: SubmitTarget,
  settings: TaskSettings,
  local: ReadonlyMap<string, TaskDefinition>,
  entries: readonly Submission[],
  tracer?: Tracer,
): Promise<{ id: string; created: boolean }[]> {
  const now = Date.now();
  const tasks = entries.map((entry, i) =>
    buildTask(
      entry.name,
      entry.payload,
      entry.options ?? {},
      now,
      entries.length > 1 ? `submissions[${i}]` : '',
      settings,
      local,
    ),
  );
  checkBatchDependencies(tasks);
  if (tasks.length === 0) return [];
  const created = new Map<string, boolean>();
  const span = traceSubmission(tracer, tasks);
  try {
    // In the producer span: a Redis instrumentation's spans of the write become its children.
    await (span === undefined
      ? store(manager, tasks, created)
      : span.run(() => store(manager, tasks, created)));
  } catch (error) {
    span?.end(true, error);
    throw error;
  }
  span?.end();
  return tasks.map((t) => ({ id: t.id, created: created.get(t.id) === true }));
}

async function store(
  manager: SubmitTarget,
  tasks: NewTask[],
  created: Map<string, boolean>,
): Promise<void> {
  const backend = await manager.backend();
  await addInBatches(backend, tasks, (batch, outcomes) => {
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i]!;
      const task = batch[i]!;
      if (!created.has(task.id)) created.set(task.id, outcome.created);
      if (!outcome.created) continue;
      manager.emit('submitted', {
        id: task.id,
        name: task.name,
        queue: task.queue,
        state: outcome.state,
      });
    }
  });
}

import { handlerRegistry, type TaskDefinition } from './registry.js';
import type { TaskSettings } from './settings.js';
import type { TaskBackend, TaskRecord } from './types.js';
import { checkQueue, checkTaskId } from './validate.js';

/**
 * @internal The queues a task manager knows: those this process consumes (the default, the
 * configured ones and those of handlers) and those the backend holds, and how a task is found in
 * them.
 */
export class TaskQueues {
  readonly #settings: TaskSettings;
  readonly #local: ReadonlyMap<string, TaskDefinition>;
  readonly #backend: () => Promise<TaskBackend>;

  constructor(
    settings: TaskSettings,
    local: ReadonlyMap<string, TaskDefinition>,
    backend: () => Promise<TaskBackend>,
  ) {
    this.#settings = settings;
    this.#local = local;
    this.#backend = backend;
  }

  /** Queues this process consumes: the default, configured ones and those of handlers. */
  served(): string[] {
    const queues = new Set<string>([this.#settings.queueName, ...this.#settings.queues]);
    for (const definition of handlerRegistry().definitions.values()) {
      if (definition.options.queue !== undefined) queues.add(definition.options.queue);
    }
    for (const definition of this.#local.values()) {
      if (definition.options.queue !== undefined) queues.add(definition.options.queue);
    }
    return [...queues];
  }

  /** The default queue, the served ones, then every other queue the backend knows. */
  async all(): Promise<string[]> {
    const backend = await this.#backend();
    const known = await backend.queues();
    return [...new Set([this.#settings.queueName, ...this.served(), ...known])];
  }

  /** The given queue, or the default queue followed by every other known queue. */
  async lookIn(queue: string | undefined): Promise<string[]> {
    if (queue !== undefined) return [checkQueue(queue, 'options.queue')];
    return this.all();
  }

  /** The task `id`, in `queue` or in the first queue that holds it. */
  async find(id: string, queue: string | undefined): Promise<TaskRecord | undefined> {
    checkTaskId(id);
    const backend = await this.#backend();
    for (const q of await this.lookIn(queue)) {
      const record = await backend.get(q, id);
      if (record !== undefined) return record;
    }
    return undefined;
  }
}

import type { AnyFunction } from '../../core/decorators.js';
import type { Logger } from '../../core/logger.js';
import type { TaskContext } from '../api-types.js';
import { SandboxPool } from './pool.js';
import type { SandboxSpec } from './spec.js';

/**
 * @internal The sandbox pools of one task manager, one per sandboxed task kind, created when its
 * first task runs and stopped by the manager's shutdown.
 */
export class SandboxPools {
  readonly #log: Logger;
  readonly #pools = new Map<string, { pool: SandboxPool; fn: AnyFunction }>();

  constructor(log: Logger) {
    this.#log = log;
  }

  /** The handler the worker pool calls for a sandboxed task: it runs the task in the sandbox. */
  handler(name: string, spec: SandboxSpec): { fn: AnyFunction; thisArg: unknown } {
    const key = `${name}\u0000${spec.key}`;
    let entry = this.#pools.get(key);
    if (entry === undefined) {
      const pool = new SandboxPool(spec, this.#log.child({ task: name, sandbox: spec.file }));
      entry = { pool, fn: (payload: unknown, context: TaskContext) => pool.run(payload, context) };
      this.#pools.set(key, entry);
    }
    return { fn: entry.fn, thisArg: undefined };
  }

  /** Threads or processes alive over every pool. */
  get size(): number {
    let size = 0;
    for (const { pool } of this.#pools.values()) size += pool.size;
    return size;
  }

  /** Stops every thread and process (running attempts fail); later tasks start new pools. */
  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map(({ pool }) => pool.close()));
  }
}

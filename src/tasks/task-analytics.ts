import type { FailureGroup } from './api-types.js';
import { GroupRates } from './group-rates.js';
import type { TaskErrorInfo } from './types.js';

const WINDOW_SECONDS = 60;
const MAX_GROUPS = 500;

/** Per-second buckets over the last minute: one counter pair per second, reused in a ring. */
class MinuteCounter {
  readonly #seconds = new Float64Array(WINDOW_SECONDS);
  readonly #completed = new Float64Array(WINDOW_SECONDS);
  readonly #failed = new Float64Array(WINDOW_SECONDS);

  add(kind: 'completed' | 'failed', nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    const i = second % WINDOW_SECONDS;
    if (this.#seconds[i] !== second) {
      this.#seconds[i] = second;
      this.#completed[i] = 0;
      this.#failed[i] = 0;
    }
    (kind === 'completed' ? this.#completed : this.#failed)[i]! += 1;
  }

  /** Events per second over the last minute (or over the time since `since`, if shorter). */
  rate(nowMs: number, since: number): { completed: number; failed: number } {
    const second = Math.floor(nowMs / 1000);
    let completed = 0;
    let failed = 0;
    for (let i = 0; i < WINDOW_SECONDS; i++) {
      if (second - this.#seconds[i]! < WINDOW_SECONDS) {
        completed += this.#completed[i]!;
        failed += this.#failed[i]!;
      }
    }
    const covered = Math.min(WINDOW_SECONDS, Math.max(1, (nowMs - since) / 1000));
    return { completed: completed / covered, failed: failed / covered };
  }
}

/**
 * Normalizes an error message for grouping: numbers, hex ids and UUIDs become `#`, so "user 12
 * not found" and "user 13 not found" are one kind of failure.
 */
export function normalizeMessage(message: string): string {
  return message
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '#')
    .replace(/\b(?:0x)?[0-9a-f]*\d[0-9a-f]*\b/gi, '#')
    .slice(0, 300);
}

/** Groups failures by task name, error name and normalized message. */
export class FailureGroups {
  readonly #groups = new Map<string, FailureGroup>();

  add(task: string, error: TaskErrorInfo, taskId: string, at: number): void {
    const message = normalizeMessage(error.message);
    const key = `${task}\u0000${error.name}\u0000${message}`;
    const group = this.#groups.get(key);
    if (group !== undefined) {
      group.count += 1;
      if (at >= group.lastAt.getTime()) {
        group.lastAt = new Date(at);
        group.lastTaskId = taskId;
      }
      return;
    }
    if (this.#groups.size >= MAX_GROUPS) {
      // Forget the group seen least recently; a bounded table beats an exact one that grows forever.
      let oldestKey: string | undefined;
      let oldest = Number.POSITIVE_INFINITY;
      for (const [k, g] of this.#groups) {
        if (g.lastAt.getTime() < oldest) {
          oldest = g.lastAt.getTime();
          oldestKey = k;
        }
      }
      if (oldestKey !== undefined) this.#groups.delete(oldestKey);
    }
    this.#groups.set(key, {
      task,
      errorName: error.name,
      message,
      count: 1,
      lastAt: new Date(at),
      lastTaskId: taskId,
    });
  }

  /** Most frequent first. */
  list(limit = 50): FailureGroup[] {
    return [...this.#groups.values()]
      .sort((a, b) => b.count - a.count || b.lastAt.getTime() - a.lastAt.getTime())
      .slice(0, limit)
      .map((g) => ({ ...g }));
  }
}

/** What this process's workers did: totals, rates per queue, failures by kind. @internal */
export class TaskAnalytics {
  /** Completions per group, and the latest group figures of each queue. */
  readonly groups = new GroupRates();
  readonly totals = { completed: 0, failed: 0, retried: 0, dead: 0 };
  readonly failures = new FailureGroups();
  readonly #perQueue = new Map<string, MinuteCounter>();
  readonly #all = new MinuteCounter();
  /** Per queue and task name: attempts that completed and failed, for the Prometheus counters. */
  readonly byTask = new Map<
    string,
    { queue: string; task: string; completed: number; failed: number }
  >();
  readonly #index = new Map<
    string,
    Map<string, { queue: string; task: string; completed: number; failed: number }>
  >();
  readonly #since: number;

  constructor(now: number) {
    this.#since = now;
  }

  completed(queue: string, task: string, now: number): void {
    this.totals.completed += 1;
    this.#counter(queue).add('completed', now);
    this.#all.add('completed', now);
    this.#task(queue, task).completed += 1;
  }

  failed(queue: string, task: string, taskId: string, error: TaskErrorInfo, now: number): void {
    this.totals.failed += 1;
    this.#counter(queue).add('failed', now);
    this.#all.add('failed', now);
    this.#task(queue, task).failed += 1;
    this.failures.add(task, error, taskId, now);
  }

  rate(now: number, queue?: string): { completed: number; failed: number } {
    const counter = queue === undefined ? this.#all : this.#perQueue.get(queue);
    return counter === undefined ? { completed: 0, failed: 0 } : counter.rate(now, this.#since);
  }

  #counter(queue: string): MinuteCounter {
    let counter = this.#perQueue.get(queue);
    if (counter === undefined) {
      counter = new MinuteCounter();
      this.#perQueue.set(queue, counter);
    }
    return counter;
  }

  /** The entry of `byTask`, found through a map per queue: no key string built per attempt. */
  #task(queue: string, task: string) {
    let names = this.#index.get(queue);
    if (names === undefined) {
      names = new Map();
      this.#index.set(queue, names);
    }
    let entry = names.get(task);
    if (entry === undefined) {
      entry = { queue, task, completed: 0, failed: 0 };
      names.set(task, entry);
      this.byTask.set(`${queue}\u0000${task}`, entry);
    }
    return entry;
  }
}

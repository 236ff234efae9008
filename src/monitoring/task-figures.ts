import { disabledTasksSnapshot, type TasksSnapshot } from './snapshot.js';
import type { TasksSource } from './tasks-source.js';

/**
 * @internal The task part of the real-time snapshot, read from the backend one read at a time.
 * A tick starts a read only when none is in flight, and waits for it up to `timeoutMs`; a read
 * that takes longer keeps going and is remembered, and until it settles every tick gets the last
 * figures that were read, marked `stale`. A slow backend thus sees one read at a time, however
 * many ticks pass.
 */
export class TaskFigures {
  readonly #source: TasksSource;
  readonly #timeoutMs: number;
  #reading: Promise<void> | undefined;
  #last: TasksSnapshot | undefined;
  #failure: unknown;

  constructor(source: TasksSource, timeoutMs: number) {
    this.#source = source;
    this.#timeoutMs = timeoutMs;
  }

  /** Reads in flight (0 or 1). */
  get reading(): number {
    return this.#reading === undefined ? 0 : 1;
  }

  /**
   * The figures: fresh when a read started now answered in time, else the last ones marked
   * stale; empty figures with `enabled: false` while the tasks module is not built. Rejects when the read failed, or when nothing was read
   * yet and the backend is slow.
   */
  async read(): Promise<TasksSnapshot | null> {
    if (!this.#source.enabled) return disabledTasksSnapshot();
    if (this.#reading === undefined) {
      this.#failure = undefined;
      this.#reading = this.#source.snapshot().then(
        (figures) => {
          this.#last = figures;
        },
        (error: unknown) => {
          // Figures of a backend that fails are not shown as if they were merely late.
          this.#last = undefined;
          this.#failure = error;
        },
      );
      const reading = this.#reading;
      void reading.finally(() => {
        if (this.#reading === reading) this.#reading = undefined;
      });
      if (await settledWithin(reading, this.#timeoutMs)) {
        if (this.#failure !== undefined) throw this.#failure;
        return this.#last ?? null;
      }
    }
    if (this.#last === undefined) {
      throw new Error(
        `the task backend did not answer within ${this.#timeoutMs} ms (no new read starts until it does)`,
      );
    }
    return { ...this.#last, stale: true };
  }
}

/** Whether `promise` (which never rejects) settled within `ms`. */
async function settledWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

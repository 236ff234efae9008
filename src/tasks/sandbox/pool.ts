import { parseDuration } from '../../core/duration.js';
import type { Logger } from '../../core/logger.js';
import type { TaskContext } from '../api-types.js';
import { TaskRateLimitedError, TaskSandboxCloneError, TaskSandboxCrashError } from '../errors.js';
import { locateRunner } from './locate.js';
import type { FromRunner, WireError } from './protocol.js';
import { type SandboxSlot, type SlotExit, startSlot } from './slot.js';
import type { SandboxSpec } from './spec.js';

/** One attempt running in a slot. */
interface Job {
  seq: number;
  context: TaskContext;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** Set once the signal aborted: terminates the slot when the grace runs out. */
  graceTimer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
}

interface Waiter {
  give(slot: SandboxSlot): void;
  fail(error: unknown): void;
}

function toWire(reason: unknown): WireError {
  if (reason instanceof Error) {
    const wire: WireError = { name: reason.name, message: reason.message };
    const code = (reason as { code?: unknown }).code;
    if (typeof code === 'string') wire.code = code;
    return wire;
  }
  return { name: 'AbortError', message: String(reason) };
}

/** The handler's error as the attempt records it: name, message, stack and code kept. */
function fromWire(wire: WireError, file: string): Error {
  if (wire.code === 'E_TASK_SANDBOX_CLONE')
    return new TaskSandboxCloneError(wire.message, { file });
  if (wire.code === 'E_TASK_RATE_LIMITED' && wire.retryAfter !== undefined) {
    return new TaskRateLimitedError(wire.message, parseDuration(wire.retryAfter, 'retryAfter'));
  }
  const error = new Error(wire.message);
  error.name = wire.name;
  if (wire.stack !== undefined) error.stack = wire.stack;
  if (wire.code !== undefined) (error as { code?: string }).code = wire.code;
  return error;
}

function crashMessage(spec: SandboxSpec, exit: SlotExit): string {
  const what = spec.kind === 'process' ? 'child process' : 'worker thread';
  const code = (exit.error as { code?: string } | undefined)?.code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return `the sandbox ${what} ran out of memory (maxMemoryMb=${spec.maxMemoryMb ?? 'Node default'}) and was stopped`;
  }
  if (exit.error !== undefined) {
    return `the sandbox ${what} stopped on an error thrown outside the handler's promise: ${exit.error.message}`;
  }
  if (exit.signal !== null) {
    const memory =
      spec.maxMemoryMb !== undefined && (exit.signal === 'SIGABRT' || exit.signal === 'SIGTRAP')
        ? ` (most likely over maxMemoryMb=${spec.maxMemoryMb})`
        : '';
    return `the sandbox ${what} was killed by ${exit.signal}${memory}`;
  }
  return `the sandbox ${what} exited with code ${exit.code} while running the handler (process.exit?)`;
}

/**
 * @internal The threads (or processes) of one sandboxed handler. Started on demand up to
 * `poolSize`, reused task after task; one that ends (crash, termination) is dropped and the next
 * task starts a new one. Idle ones keep no process alive.
 */
export class SandboxPool {
  readonly #spec: SandboxSpec;
  readonly #log: Logger;
  readonly #idle: SandboxSlot[] = [];
  readonly #all = new Set<SandboxSlot>();
  readonly #waiters: Waiter[] = [];
  #seq = 0;
  #closed = false;

  constructor(spec: SandboxSpec, log: Logger) {
    this.#spec = spec;
    this.#log = log;
  }

  /** Threads or processes alive. */
  get size(): number {
    return this.#all.size;
  }

  /** Runs the handler on `payload` in a slot; settles with its result or error. */
  async run(payload: unknown, context: TaskContext): Promise<unknown> {
    const signal = context.signal;
    signal.throwIfAborted();
    const slot = await this.#acquire(signal);
    return new Promise((resolve, reject) => {
      const job: Job = {
        seq: ++this.#seq,
        context,
        resolve,
        reject,
        graceTimer: undefined,
        onAbort: undefined,
      };
      slot.current = job;
      try {
        slot.post({
          type: 'run',
          seq: job.seq,
          file: this.#spec.file,
          payload,
          context: {
            id: context.id,
            name: context.name,
            queue: context.queue,
            attempt: context.attempt,
          },
        });
      } catch (error) {
        slot.current = undefined;
        this.#release(slot);
        reject(
          new TaskSandboxCloneError(
            `the payload of task ${context.id} cannot be sent to the sandbox: ${(error as Error).message}`,
            { id: context.id, file: this.#spec.file },
            error,
          ),
        );
        return;
      }
      slot.ref();
      job.onAbort = () => this.#abort(slot, job);
      signal.addEventListener('abort', job.onAbort, { once: true });
    });
  }

  /** Stops every thread or process; running attempts fail, waiting ones too. */
  async close(): Promise<void> {
    this.#closed = true;
    const stopped = new TaskSandboxCrashError('the sandbox was stopped by shutdown', {
      file: this.#spec.file,
      reason: 'shutdown',
    });
    for (const waiter of this.#waiters.splice(0)) waiter.fail(stopped);
    this.#idle.length = 0;
    const slots = [...this.#all];
    for (const slot of slots) this.#settle(slot, false, stopped);
    await Promise.all(slots.map((slot) => slot.terminate()));
  }

  #acquire(signal: AbortSignal): Promise<SandboxSlot> {
    if (this.#closed) {
      return Promise.reject(
        new TaskSandboxCrashError('the sandbox is stopped (shutdown)', {
          file: this.#spec.file,
          reason: 'shutdown',
        }),
      );
    }
    const idle = this.#idle.pop();
    if (idle !== undefined) return Promise.resolve(idle);
    if (this.#all.size < this.#spec.poolSize) return Promise.resolve(this.#start());
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        give: (slot) => {
          signal.removeEventListener('abort', onAbort);
          resolve(slot);
        },
        fail: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  #start(): SandboxSlot {
    const slot = startSlot(this.#spec, locateRunner(), {
      message: (from, message) => this.#message(from, message),
      exit: (from, exit) => this.#exit(from, exit),
    });
    this.#all.add(slot);
    try {
      slot.post({ type: 'load', file: this.#spec.file });
    } catch {
      // Its exit is reported like any other.
    }
    return slot;
  }

  /** A free slot goes to the oldest waiter, else back to the idle list. */
  #release(slot: SandboxSlot): void {
    slot.unref();
    if (slot.exited || this.#closed) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.give(slot);
    else this.#idle.push(slot);
  }

  #settle(slot: SandboxSlot, ok: boolean, value: unknown): void {
    const job = slot.current as Job | undefined;
    if (job === undefined) return;
    slot.current = undefined;
    if (job.graceTimer !== undefined) clearTimeout(job.graceTimer);
    if (job.onAbort !== undefined) job.context.signal.removeEventListener('abort', job.onAbort);
    if (ok) job.resolve(value);
    else job.reject(value);
  }

  #message(slot: SandboxSlot, message: FromRunner): void {
    const job = slot.current as Job | undefined;
    if (job === undefined || message.seq !== job.seq) return;
    switch (message.type) {
      case 'progress':
        job.context.progress(message.value);
        return;
      case 'log':
        this.#log[message.level]({ ...message.fields, task: job.context.id }, message.message);
        return;
      case 'done':
        this.#settle(slot, true, message.result);
        this.#release(slot);
        return;
      case 'failed':
        this.#settle(slot, false, fromWire(message.error, this.#spec.file));
        this.#release(slot);
        return;
    }
  }

  #exit(slot: SandboxSlot, exit: SlotExit): void {
    this.#all.delete(slot);
    const idle = this.#idle.indexOf(slot);
    if (idle >= 0) this.#idle.splice(idle, 1);
    const job = slot.current as Job | undefined;
    if (job !== undefined) {
      const message = crashMessage(this.#spec, exit);
      this.#settle(
        slot,
        false,
        new TaskSandboxCrashError(
          message,
          {
            id: job.context.id,
            file: this.#spec.file,
            kind: this.#spec.kind,
            exitCode: exit.code,
            signal: exit.signal,
          },
          exit.error,
        ),
      );
    } else if (!this.#closed && exit.error !== undefined) {
      this.#log.warn({ err: exit.error, file: this.#spec.file }, 'an idle sandbox thread stopped');
    }
    // Replaces it for a task that waits for a slot.
    if (!this.#closed && this.#waiters.length > 0 && this.#all.size < this.#spec.poolSize) {
      this.#waiters.shift()!.give(this.#start());
    }
  }

  /** The signal aborted: tell the handler, and terminate its slot if it has not ended in time. */
  #abort(slot: SandboxSlot, job: Job): void {
    const reason = job.context.signal.reason;
    try {
      slot.post({ type: 'abort', seq: job.seq, reason: toWire(reason) });
    } catch {
      // A process already gone: its exit settles the attempt.
    }
    job.graceTimer = setTimeout(() => {
      if (slot.current !== job) return;
      this.#log.warn(
        { task: job.context.id, file: this.#spec.file, graceMs: this.#spec.abortGraceMs },
        'a sandboxed handler did not stop after its signal was aborted: terminating its thread',
      );
      this.#settle(slot, false, reason);
      void slot.terminate();
    }, this.#spec.abortGraceMs);
    job.graceTimer.unref();
  }
}

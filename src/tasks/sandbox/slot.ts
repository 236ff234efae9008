import { type ChildProcess, fork } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RunnerLocation } from './locate.js';
import type { FromRunner, ToRunner } from './protocol.js';
import type { SandboxSpec } from './spec.js';

/** How a thread or process ended. */
export interface SlotExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The error that ended it (a thread's uncaught error, out of memory...), if any. */
  error: Error | undefined;
}

/** What a slot reports to its pool. */
export interface SlotEvents {
  message(slot: SandboxSlot, message: FromRunner): void;
  exit(slot: SandboxSlot, exit: SlotExit): void;
}

/**
 * @internal One worker thread or child process of a sandbox pool, running the runner script. It
 * keeps the process alive only while it runs a task ({@link SandboxSlot.ref}).
 */
export interface SandboxSlot {
  /** Sends a message; throws when the message cannot be cloned (DataCloneError). */
  post(message: ToRunner): void;
  ref(): void;
  unref(): void;
  /** Ends it now (a thread is terminated, a process killed); resolves once it exited. */
  terminate(): Promise<void>;
  /** The attempt it runs, if any (set by the pool). */
  current: unknown;
  exited: boolean;
}

/** The bootstrap of a thread whose runner is TypeScript source: tsx compiles it first. */
function sourceBootstrap(path: string): string {
  const url = JSON.stringify(pathToFileURL(path).href);
  return `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${url}); });`;
}

class ThreadSlot implements SandboxSlot {
  current: unknown;
  exited = false;
  readonly #worker: Worker;
  #error: Error | undefined;
  #done: Promise<void>;

  constructor(spec: SandboxSpec, runner: RunnerLocation, events: SlotEvents) {
    const resourceLimits =
      spec.maxMemoryMb === undefined ? undefined : { maxOldGenerationSizeMb: spec.maxMemoryMb };
    this.#worker = runner.source
      ? new Worker(sourceBootstrap(runner.path), { eval: true, resourceLimits })
      : new Worker(runner.path, { resourceLimits });
    this.#worker.unref();
    this.#worker.on('message', (message: FromRunner) => events.message(this, message));
    this.#worker.on('error', (error) => {
      this.#error = error;
    });
    this.#done = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        this.exited = true;
        events.exit(this, { code, signal: null, error: this.#error });
        resolve();
      });
    });
  }

  post(message: ToRunner): void {
    this.#worker.postMessage(message);
  }

  ref(): void {
    this.#worker.ref();
  }

  unref(): void {
    this.#worker.unref();
  }

  async terminate(): Promise<void> {
    // Kept referenced until it exited, so that whoever awaits this (shutdown) sees it end.
    if (!this.exited) {
      this.#worker.ref();
      await this.#worker.terminate().catch(() => {});
    }
    await this.#done;
  }
}

class ProcessSlot implements SandboxSlot {
  current: unknown;
  exited = false;
  readonly #child: ChildProcess;
  #error: Error | undefined;
  #done: Promise<void>;

  constructor(spec: SandboxSpec, runner: RunnerLocation, events: SlotEvents) {
    const execArgv = runner.source ? ['--import', 'tsx'] : [];
    if (spec.maxMemoryMb !== undefined) execArgv.push(`--max-old-space-size=${spec.maxMemoryMb}`);
    this.#child = fork(runner.path, [], {
      execArgv,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.unref();
    this.#child.on('message', (message) => events.message(this, message as FromRunner));
    this.#child.on('error', (error) => {
      this.#error = error;
    });
    this.#done = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.exited = true;
        events.exit(this, { code, signal, error: this.#error });
        resolve();
      });
    });
  }

  post(message: ToRunner): void {
    if (this.exited || !this.#child.connected) {
      throw new Error('the sandbox process is not connected');
    }
    this.#child.send(message);
  }

  ref(): void {
    this.#child.ref();
    (this.#child.channel as { ref?: () => void } | undefined)?.ref?.();
  }

  unref(): void {
    this.#child.unref();
    (this.#child.channel as { unref?: () => void } | undefined)?.unref?.();
  }

  async terminate(): Promise<void> {
    // Kept referenced until it exited, so that whoever awaits this (shutdown) sees it end.
    if (!this.exited) {
      this.#child.ref();
      this.#child.kill('SIGKILL');
    }
    await this.#done;
  }
}

/** @internal Starts a thread or a process (as `spec.kind` says) running the runner script. */
export function startSlot(
  spec: SandboxSpec,
  runner: RunnerLocation,
  events: SlotEvents,
): SandboxSlot {
  return spec.kind === 'process'
    ? new ProcessSlot(spec, runner, events)
    : new ThreadSlot(spec, runner, events);
}

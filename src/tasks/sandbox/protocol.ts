/**
 * @internal The messages between a sandbox pool and its runner (a worker thread or a child
 * process). Types only: the runner imports nothing of the package at run time.
 */

/** An error as it crosses the boundary (the runner rebuilds nothing, the pool rebuilds an Error). */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  /** `ctx.rateLimited(retryAfter)` in the sandbox: the duration as the handler gave it. */
  retryAfter?: number | string;
}

/** Main side to runner. */
export type ToRunner =
  | {
      type: 'run';
      seq: number;
      file: string;
      payload: unknown;
      context: { id: string; name: string; queue: string; attempt: number };
    }
  | { type: 'abort'; seq: number; reason: WireError }
  /** Sent when a slot starts: loads the handler's file while the first task is on its way. */
  | { type: 'load'; file: string };

/** Runner to main side. */
export type FromRunner =
  | { type: 'progress'; seq: number; value: unknown }
  | {
      type: 'log';
      seq: number;
      level: 'debug' | 'info' | 'warn' | 'error';
      fields: Record<string, unknown>;
      message: string;
    }
  | { type: 'done'; seq: number; result: unknown }
  | { type: 'failed'; seq: number; error: WireError };

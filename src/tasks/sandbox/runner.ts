// The script a sandbox pool starts in each worker thread or child process: it loads handler
// modules and runs one task at a time as the main side asks. It imports nothing of the package
// (only Node's own modules), so the built file stands alone next to the entries.
import { pathToFileURL } from 'node:url';
import { parentPort } from 'node:worker_threads';
import type { FromRunner, ToRunner, WireError } from './protocol.js';

type Handler = (payload: unknown, context: unknown) => unknown;
type Level = 'debug' | 'info' | 'warn' | 'error';

const FILE_CODE = 'E_TASK_SANDBOX_FILE';
const CLONE_CODE = 'E_TASK_SANDBOX_CLONE';

const port = parentPort;
const send: ((message: FromRunner) => void) | undefined =
  port !== null
    ? (message) => port.postMessage(message)
    : typeof process.send === 'function'
      ? (message) => {
          process.send!(message);
        }
      : undefined;

const modules = new Map<string, Promise<Handler>>();
const running = new Map<number, AbortController>();

function describe(value: unknown): string {
  if (value === undefined) return 'undefined (no default export)';
  if (value === null) return 'null';
  if (typeof value === 'object')
    return `an object with keys ${Object.keys(value).join(', ') || '(none)'}`;
  return `a ${typeof value}`;
}

function coded(message: string, code: string, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  (error as { code?: string }).code = code;
  error.name = code === FILE_CODE ? 'TaskSandboxFileError' : 'TaskSandboxCloneError';
  return error;
}

function load(file: string): Promise<Handler> {
  let loading = modules.get(file);
  if (loading === undefined) {
    loading = import(pathToFileURL(file).href).then(
      (module: { default?: unknown }) => {
        const candidate = module.default;
        // A CommonJS module compiled from ESM exports `{ default: fn }` as its `module.exports`.
        const nested = (candidate as { default?: unknown } | undefined)?.default;
        if (typeof candidate === 'function') return candidate as Handler;
        if (typeof nested === 'function') return nested as Handler;
        throw coded(
          `the default export of the sandbox file ${file} is ${describe(candidate)}, not a function: export the handler as default (export default async (payload, context) => { ... })`,
          FILE_CODE,
        );
      },
      (error: unknown) => {
        throw coded(
          `the sandbox file ${file} could not be loaded: ${(error as Error)?.message ?? String(error)}`,
          FILE_CODE,
          error,
        );
      },
    );
    modules.set(file, loading);
  }
  return loading;
}

function toWire(error: unknown): WireError {
  if (error instanceof Error) {
    const wire: WireError = { name: error.name || 'Error', message: String(error.message) };
    if (typeof error.stack === 'string') wire.stack = error.stack;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') wire.code = code;
    const retryAfter = (error as { retryAfter?: unknown }).retryAfter;
    if (typeof retryAfter === 'number' || typeof retryAfter === 'string') {
      wire.retryAfter = retryAfter;
    }
    return wire;
  }
  let text: string;
  try {
    text = typeof error === 'string' ? JSON.stringify(error) : String(error);
  } catch {
    text = Object.prototype.toString.call(error);
  }
  return { name: 'NonError', message: `a non-Error was thrown: ${text}` };
}

function fromWire(wire: WireError): Error {
  const error = new Error(wire.message);
  error.name = wire.name;
  if (wire.code !== undefined) (error as { code?: string }).code = wire.code;
  return error;
}

function log(seq: number, level: Level, first: unknown, second: unknown): void {
  const message = typeof first === 'string' ? first : typeof second === 'string' ? second : '';
  const fields =
    first !== null && typeof first === 'object' ? (first as Record<string, unknown>) : {};
  try {
    send!({ type: 'log', seq, level, fields, message });
  } catch {
    send!({ type: 'log', seq, level, fields: { fields: String(fields) }, message });
  }
}

function contextFor(message: Extract<ToRunner, { type: 'run' }>, signal: AbortSignal) {
  const seq = message.seq;
  const logger = Object.fromEntries(
    (['debug', 'info', 'warn', 'error'] as const).map((level) => [
      level,
      (first: unknown, second?: unknown) => log(seq, level, first, second),
    ]),
  );
  return {
    ...message.context,
    signal,
    logger,
    // The main thread reads the duration (TaskRateLimitedError): no attempt spent, the group waits.
    rateLimited(retryAfter: number | string): never {
      const error = new Error(`rate limited by the remote side; retry after ${retryAfter}`);
      error.name = 'TaskRateLimitedError';
      Object.assign(error, { code: 'E_TASK_RATE_LIMITED', retryAfter });
      throw error;
    },
    progress(value: unknown): void {
      try {
        send!({ type: 'progress', seq, value });
      } catch (error) {
        log(
          seq,
          'warn',
          { error: (error as Error).message },
          'progress ignored: it cannot be sent out of the sandbox',
        );
      }
    },
  };
}

async function run(message: Extract<ToRunner, { type: 'run' }>): Promise<void> {
  const controller = new AbortController();
  running.set(message.seq, controller);
  try {
    const handler = await load(message.file);
    const result = await handler(message.payload, contextFor(message, controller.signal));
    try {
      send!({ type: 'done', seq: message.seq, result });
    } catch (error) {
      throw coded(
        `the result of the sandboxed handler cannot be sent back to the main thread: ${(error as Error).message}`,
        CLONE_CODE,
        error,
      );
    }
  } catch (error) {
    send!({ type: 'failed', seq: message.seq, error: toWire(error) });
  } finally {
    running.delete(message.seq);
  }
}

function receive(message: ToRunner): void {
  if (message.type === 'run') void run(message);
  else if (message.type === 'abort') running.get(message.seq)?.abort(fromWire(message.reason));
  // A file that fails to load fails the first task that needs it, with the reason.
  else if (message.type === 'load') load(message.file).catch(() => {});
}

if (port !== null) {
  port.on('message', receive);
} else if (send !== undefined) {
  process.on('message', (message) => receive(message as ToRunner));
  // The main process went away: nothing will ask for work or read results any more.
  process.on('disconnect', () => process.exit(0));
}

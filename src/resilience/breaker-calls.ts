import type { Deadlines } from './deadlines.js';
import { CircuitTimeoutError } from './errors.js';

/** Handed to calls that have nothing to abort them: one signal for all, never aborted. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/** @internal How a call ended, as a breaker counts it. */
export type Outcome = 'success' | 'ignored' | 'failure' | 'timeout' | 'aborted';

/** @internal What the call paths below need of their breaker (its private parts, lent). */
export interface CallHost<F> {
  readonly name: string;
  readonly timeoutMs: number;
  readonly deadlines: Deadlines | undefined;
  /** Counts an outcome; decides the state only when `epoch` is still the breaker's. */
  record(epoch: number, outcome: Outcome, error: unknown): void;
  /** `failure`, `ignored` (see `isFailure`) or `aborted` (the caller's signal aborted). */
  classify(error: unknown, signal: AbortSignal | undefined): Outcome;
  /** Settles with the fallback's answer to `error`, or rejects with `error`. */
  answerFailure(
    resolve: (value: F | PromiseLike<F>) => void,
    reject: (reason: unknown) => void,
    error: unknown,
  ): void;
}

/** Runs `fn`, a sync throw becoming a rejection. */
function start<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, signal: AbortSignal): unknown {
  try {
    return fn(signal);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * @internal A closed-state call under the breaker's timeout whose `fn` takes no signal (so none is
 * made): one promise, one deadline slot emptied as soon as the call settles.
 */
export function timedCall<T, F>(
  host: CallHost<F>,
  epoch: number,
  fn: () => T | PromiseLike<T>,
): Promise<T | F> {
  const deadlines = host.deadlines!;
  const pending = start(fn, NEVER_ABORTED);
  return new Promise<T | F>((resolve, reject) => {
    const watch = deadlines.watch(() => {
      const error = new CircuitTimeoutError(host.name, host.timeoutMs);
      host.record(epoch, 'timeout', error);
      host.answerFailure(resolve, reject, error);
    });
    (pending instanceof Promise ? pending : Promise.resolve(pending)).then(
      (value: T) => {
        if (!deadlines.settle(watch)) return; // timed out already: dropped, never unhandled
        host.record(epoch, 'success', undefined);
        resolve(value);
      },
      (error: unknown) => {
        if (!deadlines.settle(watch)) return;
        const outcome = host.classify(error, undefined);
        host.record(epoch, outcome, error);
        if (outcome === 'failure') host.answerFailure(resolve, reject, error);
        else reject(error);
      },
    );
  });
}

/**
 * @internal Any other call: a trial, a call with the caller's `signal`, or one whose `fn` takes a
 * signal to abort on timeout. The caller is answered at the first of: `fn` settling, the timeout,
 * `signal` aborting; the breaker counts how `fn` ends (or its timeout), whichever way the caller
 * was answered.
 */
export function guardedCall<T, F>(
  host: CallHost<F>,
  epoch: number,
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  signal: AbortSignal | undefined,
): Promise<T | F> {
  const deadlines = host.deadlines;
  return new Promise<T | F>((resolve, reject) => {
    let answered = false;
    let recorded = false;
    const controller = deadlines !== undefined && fn.length > 0 ? new AbortController() : undefined;
    const answer = (settle: () => void) => {
      if (answered) return;
      answered = true;
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    const onAbort = () => {
      controller?.abort(signal!.reason);
      answer(() => reject(signal!.reason));
    };
    const watch = deadlines?.watch(() => {
      recorded = true;
      const error = new CircuitTimeoutError(host.name, host.timeoutMs);
      controller?.abort(error);
      host.record(epoch, 'timeout', error);
      answer(() => host.answerFailure(resolve, reject, error));
    });
    const settled = (outcome: Outcome, value: unknown) => {
      if (recorded) return; // timed out already: the late outcome is dropped, never unhandled
      recorded = true;
      if (watch !== undefined) deadlines!.settle(watch);
      host.record(epoch, outcome, value);
      answer(() => {
        if (outcome === 'success') resolve(value as T);
        else if (outcome === 'failure') host.answerFailure(resolve, reject, value);
        else reject(value);
      });
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const pending = start(fn, controller?.signal ?? signal ?? NEVER_ABORTED);
    Promise.resolve(pending).then(
      (value) => settled('success', value),
      (error: unknown) => settled(host.classify(error, signal), error),
    );
  });
}

import { describeValue, EnterpriseError } from '../../core/errors.js';

/**
 * A history query was refused: an invalid time or range, a step that is not a whole number of
 * minutes (or of hours, beyond the minutes kept), more points than allowed, an operation or figure
 * the store does not hold, labels no label set has. `context.parameter` names the offending
 * parameter (`from`, `to`, `step`, `operation`, `metric`, `labels`), as a 400 answer would.
 *
 * @example
 * ```ts
 * try {
 *   await store.query({ operation: 'GET /users', from: 0, to: Date.now(), step: '1s' });
 * } catch (error) {
 *   if (error instanceof HistoryQueryError) console.log(error.context.parameter); // 'step'
 * }
 * ```
 */
export class HistoryQueryError extends EnterpriseError {
  declare readonly context: Readonly<{ parameter: string; value: unknown; expected: string }>;

  constructor(parameter: string, value: unknown, expected: string, detail?: string) {
    super(
      'E_HISTORY_QUERY',
      `${parameter}=${describeValue(value)} is invalid: ${detail ?? `expected ${expected}`}`,
      { context: { parameter, value, expected } },
    );
  }
}

/**
 * A history store could not do what was asked: the database or Redis failed or did not answer in
 * time. `context.store` names the store, `context.operation` the call; `cause` is the underlying
 * error.
 *
 * @example
 * ```ts
 * await store.write(rollup).catch((error: HistoryStoreError) => log.warn(error.context.operation));
 * ```
 */
export class HistoryStoreError extends EnterpriseError {
  declare readonly context: Readonly<{ store: string; operation: string }>;

  constructor(store: string, operation: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('E_HISTORY_STORE', `history store "${store}": ${operation} failed: ${reason}`, {
      context: { store, operation },
      cause,
    });
  }
}

import { describeValue, EnterpriseError } from '../../core/errors.js';

/**
 * A capacity option is invalid: a limit that is not a positive number, an unknown `use`, a
 * lookback or horizon that is not a duration. `context.field` names the option.
 *
 * @example
 * ```ts
 * try {
 *   new CapacityPlanner({ history, limits: [{ metric: 'system.memory.rss', limit: -1 }] });
 * } catch (error) {
 *   if (error instanceof CapacityConfigError) console.log(error.context.field); // 'limits[0].limit'
 * }
 * ```
 */
export class CapacityConfigError extends EnterpriseError {
  declare readonly context: Readonly<{ field: string; value: unknown; expected: string }>;

  constructor(field: string, value: unknown, expected: string) {
    super(
      'E_CAPACITY_CONFIG',
      `capacity option ${field}=${describeValue(value)} is invalid: expected ${expected}`,
      { context: { field, value, expected } },
    );
  }
}

/**
 * A capacity forecast was asked with a bad parameter (`lookback`, `horizon`, `at`, `confidence`).
 * `context.parameter` names it, as a 400 answer would.
 *
 * @example
 * ```ts
 * await planner.forecast({ lookback: 'soon' }).catch((error: CapacityQueryError) => error.context.parameter); // 'lookback'
 * ```
 */
export class CapacityQueryError extends EnterpriseError {
  declare readonly context: Readonly<{ parameter: string; value: unknown; expected: string }>;

  constructor(parameter: string, value: unknown, expected: string) {
    super(
      'E_CAPACITY_QUERY',
      `${parameter}=${describeValue(value)} is invalid: expected ${expected}`,
      {
        context: { parameter, value, expected },
      },
    );
  }
}

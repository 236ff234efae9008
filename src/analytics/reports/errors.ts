import { describeValue, EnterpriseError } from '../../core/errors.js';

/**
 * A report definition is invalid: an empty or taken name, an unknown section or format, a bad
 * period, schedule or delivery target. `context.field` names the option (`sections[2]`,
 * `deliver[0].channel`, `schedule`...).
 *
 * @example
 * ```ts
 * try {
 *   reports.define('weekly', { sections: ['perfromance'], period: '7d', formats: ['html'] });
 * } catch (error) {
 *   if (error instanceof ReportConfigError) console.log(error.context.field); // 'sections[0]'
 * }
 * ```
 */
export class ReportConfigError extends EnterpriseError {
  declare readonly context: Readonly<{
    report: string;
    field: string;
    value: unknown;
    expected: string;
  }>;

  constructor(report: string, field: string, value: unknown, expected: string) {
    super(
      'E_REPORT_CONFIG',
      `report "${report}": ${field}=${describeValue(value)} is invalid: expected ${expected}`,
      { context: { report, field, value, expected } },
    );
  }
}

/**
 * A report was asked for with a bad parameter: an unknown report (`name`), a time that does not
 * parse or a range that is empty or too long (`from`, `to`), a format the report does not offer
 * (`format`). `context.parameter` names it: an endpoint answers 400 with it as `error.field`.
 *
 * @example
 * ```ts
 * await reports.generate('weekly', { format: 'pdf' }).catch((error: ReportQueryError) => error.context.parameter); // 'format'
 * ```
 */
export class ReportQueryError extends EnterpriseError {
  declare readonly context: Readonly<{ parameter: string; value: unknown; expected: string }>;

  constructor(parameter: string, value: unknown, expected: string) {
    super(
      'E_REPORT_QUERY',
      `${parameter}=${describeValue(value)} is invalid: expected ${expected}`,
      {
        context: { parameter, value, expected },
      },
    );
  }
}

/**
 * A generated report could not be delivered to one of its targets (a channel that failed or does
 * not exist, a directory that cannot be written). `context.target` names the target; `cause` is
 * the underlying error. The other targets are still tried.
 *
 * @example
 * ```ts
 * const result = await reports.run('weekly');
 * for (const failure of result.failed) console.warn(failure.target, failure.error);
 * ```
 */
export class ReportDeliveryError extends EnterpriseError {
  declare readonly context: Readonly<{ report: string; target: string }>;

  constructor(report: string, target: string, message: string, cause?: unknown) {
    super('E_REPORT_DELIVERY', `report "${report}" to ${target}: ${message}`, {
      context: { report, target },
      cause,
    });
  }
}

import { EnterpriseError } from '../core/errors.js';

/**
 * A command line failure: a usage mistake (exit code 2) or a command that could not be done (1).
 *
 * @example
 * ```ts
 * throw new CliError('missing the schedule name', 2); // E_CLI
 * ```
 */
export class CliError extends EnterpriseError {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super('E_CLI', message, { context: { exitCode } });
    this.exitCode = exitCode;
  }
}

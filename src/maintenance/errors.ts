import { EnterpriseError } from '../core/errors.js';

/**
 * A maintenance option is invalid: a cron expression, a retention rule, a table or column name, a
 * threshold. `context.field` names the option, `context.value` what was given. Thrown when the
 * option is given (`enable()`, `schedule()`, `createEnterprise()`), never when the task runs.
 *
 * @example
 * ```ts
 * enterprise.maintenance.enable({ tasks: { optimize_database: { schedule: 'at two' } } });
 * // MaintenanceConfigError (E_MAINTENANCE_CONFIG): tasks.optimize_database.schedule="at two" is invalid: ...
 * ```
 */
export class MaintenanceConfigError extends EnterpriseError {
  declare readonly context: Readonly<{ field: string; value: unknown; expected: string }>;

  constructor(
    message: string,
    context: { field: string; value: unknown; expected: string },
    cause?: unknown,
  ) {
    super('E_MAINTENANCE_CONFIG', message, { context, cause });
  }
}

/**
 * `run(name)`, `schedule(name)` or `POST /maintenance/:task/run` named a task that is not one of
 * the seven (or that is not enabled). `context.task` names it.
 *
 * @example
 * ```ts
 * await enterprise.maintenance.run('defrag'); // MaintenanceUnknownTaskError (E_MAINTENANCE_UNKNOWN_TASK)
 * ```
 */
export class MaintenanceUnknownTaskError extends EnterpriseError {
  declare readonly context: Readonly<{ task: string; known: readonly string[] }>;

  constructor(task: string, known: readonly string[]) {
    super(
      'E_MAINTENANCE_UNKNOWN_TASK',
      `no maintenance task is named "${task}"${known.length === 0 ? ' (maintenance is not enabled)' : `: expected one of ${known.join(', ')}`}`,
      { context: { task, known } },
    );
  }
}

/**
 * A maintenance run went past its `timeout`: its signal was aborted (database statements are
 * bounded by `statement_timeout` too) and the run was recorded as failed.
 *
 * @example
 * ```ts
 * const result = await enterprise.maintenance.run('optimize_database');
 * if (result.error?.code === 'E_MAINTENANCE_TIMEOUT') console.warn('raise its timeout');
 * ```
 */
export class MaintenanceTimeoutError extends EnterpriseError {
  declare readonly context: Readonly<{ task: string; timeoutMs: number }>;

  constructor(task: string, timeoutMs: number) {
    super(
      'E_MAINTENANCE_TIMEOUT',
      `maintenance task ${task} did not finish within ${timeoutMs} ms`,
      {
        context: { task, timeoutMs },
      },
    );
  }
}

/**
 * A maintenance task could not do its work: it has nothing to work on (no database pool given), or
 * the database, Redis or a module it relies on failed. `cause` holds the underlying error.
 *
 * @example
 * ```ts
 * const result = await enterprise.maintenance.run('cleanup_old_content');
 * if (!result.ok) console.error(result.error?.code, result.error?.message);
 * ```
 */
export class MaintenanceTaskError extends EnterpriseError {
  declare readonly context: Readonly<{ task: string }>;

  constructor(task: string, message: string, cause?: unknown) {
    super('E_MAINTENANCE_TASK', `maintenance task ${task}: ${message}`, {
      context: { task },
      cause,
    });
  }
}

/**
 * A backup document given to `importState()` is invalid, or names something this instance cannot
 * restore (no task backend, a backend without `restoreDead`, no alerts module). `context.field`
 * is the path of the bad field (`schedules[2].kind`, `version`), `context.value` what it held.
 * Nothing is written when the document is invalid: it is checked whole before the first write.
 *
 * @example
 * ```ts
 * await enterprise.maintenance.importState({ version: 9 });
 * // MaintenanceBackupError (E_MAINTENANCE_BACKUP): version=9 is invalid: expected 1
 * ```
 */
export class MaintenanceBackupError extends EnterpriseError {
  declare readonly context: Readonly<{ field: string; value: unknown; expected: string }>;

  constructor(
    message: string,
    context: { field: string; value: unknown; expected: string },
    cause?: unknown,
  ) {
    super('E_MAINTENANCE_BACKUP', message, { context, cause });
  }
}

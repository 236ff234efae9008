/**
 * Every error this package throws on purpose is an {@link EnterpriseError}: callers can branch on the
 * stable `code` instead of parsing messages, and `context` carries the values that explain the failure.
 *
 * @example
 * ```ts
 * try {
 *   createEnterprise();
 * } catch (error) {
 *   if (error instanceof EnterpriseError && error.code === 'E_CONFIG_INVALID') {
 *     console.error(error.context.source, error.context.value);
 *   }
 * }
 * ```
 */
export class EnterpriseError extends Error {
  /** A stable, machine-readable identifier such as `E_CONFIG_INVALID`. */
  readonly code: string;
  /** Values that explain the failure (the option or variable, the value received, ...). */
  readonly context: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; context?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.context = Object.freeze({ ...options.context });
  }

  /** A plain object for structured logs and JSON responses. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, context: this.context };
  }
}

/**
 * A configuration value, from code or from the environment, is not what the package expects.
 * The message names the option or variable, the value and what was expected.
 *
 * @example
 * ```ts
 * // PERFORMANCE_ALERT_THRESHOLD_MS=soon
 * createEnterprise(); // ConfigError: PERFORMANCE_ALERT_THRESHOLD_MS="soon" is invalid: expected a positive number of milliseconds
 * ```
 */
export class ConfigError extends EnterpriseError {
  constructor(
    message: string,
    context: { source: string; value: unknown; expected: string },
    cause?: unknown,
  ) {
    super('E_CONFIG_INVALID', message, { context, cause });
  }
}

/**
 * An argument passed to a public function is invalid (an empty operation name, a negative threshold,
 * a duration string without a unit, ...).
 *
 * @example
 * ```ts
 * monitorPerformance('', fn); // InvalidArgumentError (E_INVALID_ARGUMENT)
 * ```
 */
export class InvalidArgumentError extends EnterpriseError {
  constructor(
    message: string,
    context: { argument: string; value: unknown; expected: string },
    cause?: unknown,
  ) {
    super('E_INVALID_ARGUMENT', message, { context, cause });
  }
}

/**
 * A lifecycle call came at the wrong time, such as using an instance after `shutdown()`.
 *
 * @example
 * ```ts
 * await enterprise.shutdown();
 * await enterprise.start(); // LifecycleError (E_LIFECYCLE)
 * ```
 */
export class LifecycleError extends EnterpriseError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('E_LIFECYCLE', message, { context });
  }
}

/**
 * An optional peer dependency is needed for the feature that was asked for but is not installed.
 *
 * @example
 * ```ts
 * createEnterprise({ performance: { openTelemetry: true } }); // MissingDependencyError if @opentelemetry/api is absent
 * ```
 */
export class MissingDependencyError extends EnterpriseError {
  constructor(packageName: string, feature: string, cause?: unknown) {
    super(
      'E_MISSING_DEPENDENCY',
      `${feature} needs the optional package "${packageName}": install it with \`npm install ${packageName}\``,
      { context: { package: packageName, feature }, cause },
    );
  }
}

/** Formats a value for an error message without throwing on cycles, symbols or huge strings. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  }
  if (typeof value === 'symbol' || typeof value === 'function' || typeof value === 'bigint') {
    return typeof value === 'function' ? '[function]' : String(value);
  }
  if (value === null || typeof value !== 'object') return String(value);
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

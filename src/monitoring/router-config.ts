import { MonitoringConfigError } from './errors.js';

/**
 * @internal Refuses options that are not an object, and a production router that would serve
 * everything to anyone because neither `auth` nor `public: true` was given.
 */
export function checkRouterOptions(options: { auth?: unknown; public?: boolean }): void {
  if (options === null || typeof options !== 'object') {
    throw new MonitoringConfigError('E_MONITORING_CONFIG', 'options must be an object', {
      option: 'options',
    });
  }
  if (
    options.auth === undefined &&
    options.public !== true &&
    process.env.NODE_ENV === 'production'
  ) {
    throw new MonitoringConfigError(
      'E_MONITORING_AUTH_REQUIRED',
      'the monitoring router refuses to start without auth when NODE_ENV=production: pass `auth` (a token or a hook), or `public: true` for a router only reachable from a private network',
      { nodeEnv: 'production' },
    );
  }
}

/** @internal `value` when it is a whole number of at least `min`; throws naming `option` else. */
export function integer(value: unknown, option: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new MonitoringConfigError(
      'E_MONITORING_CONFIG',
      `${option}=${String(value)} is invalid: expected a whole number of at least ${min}`,
      { option, value },
    );
  }
  return value;
}

/** @internal The mount path without its trailing slash; `''` for the root. */
export function normalizeBasePath(value: unknown): string {
  if (value === undefined || value === '' || value === '/') return '';
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#\s]/.test(value)) {
    throw new MonitoringConfigError(
      'E_MONITORING_CONFIG',
      `basePath=${String(value)} is invalid: expected a path starting with "/"`,
      { option: 'basePath', value },
    );
  }
  return value.endsWith('/') ? value.slice(0, -1) : value;
}

/** @internal Throws unless `value` is absent, `false` or starts with `max-age=<seconds>`. */
export function checkStrictTransportSecurity(value: unknown): void {
  if (
    value !== undefined &&
    value !== false &&
    (typeof value !== 'string' || !/^max-age=\d+/.test(value))
  ) {
    throw new MonitoringConfigError(
      'E_MONITORING_CONFIG',
      `strictTransportSecurity=${String(value)} is invalid: expected false or a value starting with max-age=<seconds>`,
      { option: 'strictTransportSecurity', value },
    );
  }
}

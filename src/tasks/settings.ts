import type { ResolvedConfig } from '../core/config.js';
import { parseDuration } from '../core/duration.js';
import { ConfigError, describeValue } from '../core/errors.js';
import { resolveBackoff } from './backoff.js';
import type { TaskOptions } from './options.js';
import { type RetentionOptions, resolveRetention } from './retention.js';
import type { BackoffSpec, TaskBackend } from './types.js';
import { checkQueue } from './validate.js';

/** The task module's settings after options and defaults are merged and checked. @internal */
export interface TaskSettings {
  queueName: string;
  workerCount: number;
  maxRetries: number;
  backend: TaskBackend | 'memory' | 'redis' | undefined;
  redisUrl: string | undefined;
  queues: readonly string[];
  minConcurrency: number;
  maxConcurrency: number;
  prefetch: number;
  leaseMs: number;
  heartbeatMs: number;
  stalledAfterMs: number;
  timeoutMs: number;
  backoff: BackoffSpec;
  shutdownTimeoutMs: number;
  scheduleSyncMs: number;
  retention: RetentionOptions;
  strictNames: boolean;
  maxPayloadBytes: number;
}

/** The default of `tasks.maxPayloadBytes`: 2 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 2_097_152;

function wrap<T>(source: string, expected: string, value: unknown, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new ConfigError(
      `${source}=${describeValue(value)} is invalid: expected ${expected}`,
      { source, value, expected },
      error,
    );
  }
}

function wholeMs(source: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value;
  const expected = `a whole number of milliseconds of at least ${min}`;
  throw new ConfigError(`${source}=${describeValue(value)} is invalid: expected ${expected}`, {
    source,
    value,
    expected,
  });
}

/**
 * Resolves the task options that have no environment variable (the three that do come from
 * `config.tasks`). Throws `ConfigError` naming the option.
 *
 * @internal
 */
export function resolveTaskSettings(
  options: TaskOptions | undefined,
  config: ResolvedConfig,
): TaskSettings {
  const o = options ?? {};
  const { queueName, workerCount, maxRetries } = config.tasks;
  const backend = o.backend;
  if (
    backend !== undefined &&
    backend !== 'memory' &&
    backend !== 'redis' &&
    (backend === null || typeof backend !== 'object' || typeof backend.claim !== 'function')
  ) {
    const expected = "a TaskBackend, 'memory' or 'redis'";
    throw new ConfigError(
      `tasks.backend=${describeValue(backend)} is invalid: expected ${expected}`,
      {
        source: 'tasks.backend',
        value: backend,
        expected,
      },
    );
  }
  const queues = wrap('tasks.queues', 'a list of queue names', o.queues, () => {
    if (o.queues === undefined) return [];
    if (!Array.isArray(o.queues)) throw new TypeError('not an array');
    return o.queues.map((q) => checkQueue(q, 'tasks.queues[]'));
  });
  const concurrency = o.concurrency ?? {};
  const positiveInt = (source: string, value: unknown, fallback: number) => {
    if (value === undefined) return fallback;
    if (typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 10_000) {
      return value;
    }
    const expected = 'a whole number of worker slots from 1 to 10000';
    throw new ConfigError(`${source}=${describeValue(value)} is invalid: expected ${expected}`, {
      source,
      value,
      expected,
    });
  };
  let minConcurrency = positiveInt(
    'tasks.concurrency.min',
    concurrency.min,
    Math.min(workerCount, concurrency.max ?? workerCount),
  );
  const maxConcurrency = positiveInt(
    'tasks.concurrency.max',
    concurrency.max,
    Math.max(workerCount, minConcurrency),
  );
  if (minConcurrency > maxConcurrency) {
    const expected = `at most tasks.concurrency.max (${maxConcurrency})`;
    throw new ConfigError(
      `tasks.concurrency.min=${minConcurrency} is invalid: expected ${expected}`,
      { source: 'tasks.concurrency.min', value: minConcurrency, expected },
    );
  }
  minConcurrency = Math.max(1, minConcurrency);
  let prefetch = Math.min(100, Math.max(8, workerCount));
  if (o.prefetch !== undefined) {
    if (
      typeof o.prefetch !== 'number' ||
      !Number.isInteger(o.prefetch) ||
      o.prefetch < 0 ||
      o.prefetch > 10_000
    ) {
      const expected = 'a whole number of tasks from 0 to 10000';
      throw new ConfigError(
        `tasks.prefetch=${describeValue(o.prefetch)} is invalid: expected ${expected}`,
        {
          source: 'tasks.prefetch',
          value: o.prefetch,
          expected,
        },
      );
    }
    prefetch = o.prefetch;
  }
  const leaseMs = wholeMs('tasks.leaseMs', o.leaseMs, 30_000, 100);
  const heartbeatMs = wholeMs('tasks.heartbeatMs', o.heartbeatMs, 5_000, 50);
  const stalledAfterMs = wholeMs('tasks.stalledAfterMs', o.stalledAfterMs, 300_000, 100);
  const timeoutMs = wrap(
    'tasks.timeout',
    'a duration (seconds or a string with a unit)',
    o.timeout,
    () => (o.timeout === undefined ? 0 : parseDuration(o.timeout, 'tasks.timeout')),
  );
  const shutdownTimeoutMs = wrap(
    'tasks.shutdownTimeout',
    'a duration (seconds or a string with a unit)',
    o.shutdownTimeout,
    () =>
      o.shutdownTimeout === undefined
        ? 10_000
        : parseDuration(o.shutdownTimeout, 'tasks.shutdownTimeout'),
  );
  const scheduleSyncMs = wrap(
    'tasks.scheduleSync',
    'a duration of at least 100 ms (seconds or a string with a unit)',
    o.scheduleSync,
    () => {
      const ms =
        o.scheduleSync === undefined ? 5_000 : parseDuration(o.scheduleSync, 'tasks.scheduleSync');
      if (ms < 100) throw new RangeError('below 100 ms');
      return ms;
    },
  );
  const backoff = wrap(
    'tasks.backoff',
    "'fixed', 'exponential' or backoff options",
    o.backoff,
    () => resolveBackoff(o.backoff, undefined, 'tasks.backoff'),
  );
  const retention = wrap('tasks.retention', 'retention bounds', o.retention, () => {
    resolveRetention(o.retention);
    return o.retention ?? {};
  });
  if (o.strictNames !== undefined && typeof o.strictNames !== 'boolean') {
    throw new ConfigError(
      `tasks.strictNames=${describeValue(o.strictNames)} is invalid: expected a boolean`,
      {
        source: 'tasks.strictNames',
        value: o.strictNames,
        expected: 'a boolean',
      },
    );
  }
  const maxPayloadBytes = o.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (
    typeof maxPayloadBytes !== 'number' ||
    !Number.isInteger(maxPayloadBytes) ||
    maxPayloadBytes < 1 ||
    maxPayloadBytes > 536_870_912
  ) {
    // Redis refuses a string value over 512 MiB: a larger limit could never be met.
    const expected = 'a whole number of bytes from 1 to 536870912 (512 MiB)';
    throw new ConfigError(
      `tasks.maxPayloadBytes=${describeValue(maxPayloadBytes)} is invalid: expected ${expected}`,
      { source: 'tasks.maxPayloadBytes', value: maxPayloadBytes, expected },
    );
  }
  if (typeof backend === 'object') checkLeaseMs(leaseMs, backend);
  return {
    queueName,
    workerCount,
    maxRetries,
    backend,
    redisUrl: config.redisUrl,
    queues,
    minConcurrency,
    maxConcurrency,
    prefetch,
    leaseMs,
    heartbeatMs,
    stalledAfterMs,
    timeoutMs,
    backoff,
    shutdownTimeoutMs,
    scheduleSyncMs,
    retention,
    strictNames: o.strictNames ?? true,
    maxPayloadBytes,
  };
}

/**
 * Refuses a lease too short for the backend's command timeout. A lease is renewed every third of
 * its length, and one renewal may take a command timeout and a retry after a reconnection: with
 * `leaseMs` under three command timeouts, a renewal that is slow but succeeds can land after the
 * lease ended, and another worker may already run the task.
 *
 * @internal
 */
export function checkLeaseMs(leaseMs: number, backend: TaskBackend): void {
  const commandTimeoutMs = backend.commandTimeoutMs;
  if (typeof commandTimeoutMs !== 'number' || leaseMs >= 3 * commandTimeoutMs) return;
  const expected = `at least 3 x the backend's commandTimeoutMs (${commandTimeoutMs}), that is ${3 * commandTimeoutMs}`;
  throw new ConfigError(
    `tasks.leaseMs=${leaseMs} is invalid with the ${backend.name} backend's commandTimeoutMs=${commandTimeoutMs}: expected ${expected}. A lease is renewed every third of its length and one renewal may take a command timeout plus a retry, so a shorter lease can run out while a renewal is still on its way; raise leaseMs or lower the backend's commandTimeoutMs`,
    { source: 'tasks.leaseMs', value: leaseMs, expected },
  );
}

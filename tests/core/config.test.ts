import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  createEnterprise,
  DEFAULT_BUCKETS,
  EnterpriseError,
  type EnterpriseOptions,
  InvalidArgumentError,
  type ResolvedConfig,
  resolveConfig,
} from '../../src/index.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

/** One environment variable of the seed and the option that overrides it. */
interface Variable {
  variable: string;
  read: (config: ResolvedConfig) => unknown;
  /** Options setting the value from code, and what it resolves to. */
  option: EnterpriseOptions;
  fromOption: unknown;
  /** A raw environment value, and what it resolves to. */
  env: string;
  fromEnv: unknown;
  fallback: unknown;
  invalid: string[];
}

const VARIABLES: Variable[] = [
  {
    variable: 'PERFORMANCE_ALERT_THRESHOLD_MS',
    read: (c) => c.performance.alertThresholdMs,
    option: { performance: { alertThresholdMs: 75 } },
    fromOption: 75,
    env: '250',
    fromEnv: 250,
    fallback: 1_000,
    invalid: ['soon', '0', '-5', 'Infinity', 'NaN', '10ms'],
  },
  {
    variable: 'PERFORMANCE_MAX_METRICS',
    read: (c) => c.performance.maxMetrics,
    option: { performance: { maxMetrics: 20 } },
    fromOption: 20,
    env: '500',
    fromEnv: 500,
    fallback: 10_000,
    invalid: ['abc', '0', '-1', '1.5', '1e400'],
  },
  {
    variable: 'REDIS_URL',
    read: (c) => c.redisUrl,
    option: { redisUrl: 'rediss://secure.example:6380/2' },
    fromOption: 'rediss://secure.example:6380/2',
    env: 'redis://cache:6379/1',
    fromEnv: 'redis://cache:6379/1',
    fallback: undefined,
    invalid: ['http://cache:6379', 'not a url', 'localhost:6379'],
  },
  {
    variable: 'CACHE_DEFAULT_TTL',
    read: (c) => c.cache.defaultTtlMs,
    option: { cache: { defaultTtl: 60 } },
    fromOption: 60_000,
    env: '5m',
    fromEnv: 300_000,
    fallback: 3_600_000,
    invalid: ['0', '0s', '-1', 'soon', '5x', '1h30m'],
  },
  {
    variable: 'CACHE_MAX_SIZE',
    read: (c) => c.cache.maxSize,
    option: { cache: { maxSize: 50 } },
    fromOption: 50,
    env: '250',
    fromEnv: 250,
    fallback: 10_000,
    invalid: ['ten', '0', '-3', '2.5'],
  },
  {
    variable: 'TASK_QUEUE_NAME',
    read: (c) => c.tasks.queueName,
    option: { tasks: { queueName: 'reports' } },
    fromOption: 'reports',
    env: 'emails.high-priority:v2',
    fromEnv: 'emails.high-priority:v2',
    fallback: 'default',
    invalid: ['has space', 'a/b', 'q'.repeat(101), 'bad\nname'],
  },
  {
    variable: 'TASK_WORKER_COUNT',
    read: (c) => c.tasks.workerCount,
    option: { tasks: { workerCount: 4 } },
    fromOption: 4,
    env: '8',
    fromEnv: 8,
    fallback: 2,
    invalid: ['0', '-1', '1.5', 'many'],
  },
  {
    variable: 'TASK_MAX_RETRIES',
    read: (c) => c.tasks.maxRetries,
    option: { tasks: { maxRetries: 5 } },
    fromOption: 5,
    env: '0',
    fromEnv: 0,
    fallback: 3,
    invalid: ['-1', '1.5', 'forever'],
  },
  {
    variable: 'LOG_LEVEL',
    read: (c) => c.logLevel,
    option: { logLevel: 'warn' },
    fromOption: 'warn',
    env: 'debug',
    fromEnv: 'debug',
    fallback: 'info',
    invalid: ['verbose', 'loud'],
  },
];

describe('resolveConfig precedence: option > environment > default', () => {
  describe.each(VARIABLES)('$variable', (v) => {
    it('falls back to the default when neither option nor variable is set', () => {
      expect(v.read(resolveConfig({}, {}))).toEqual(v.fallback);
    });

    it('reads the environment variable when no option is given', () => {
      expect(v.read(resolveConfig({}, { [v.variable]: v.env }))).toEqual(v.fromEnv);
    });

    it('lets the option given in code win over the environment', () => {
      expect(v.read(resolveConfig(v.option, { [v.variable]: v.env }))).toEqual(v.fromOption);
      expect(v.read(resolveConfig(v.option, {}))).toEqual(v.fromOption);
    });

    it('treats an empty or blank variable as unset', () => {
      expect(v.read(resolveConfig({}, { [v.variable]: '' }))).toEqual(v.fallback);
      expect(v.read(resolveConfig({}, { [v.variable]: '   ' }))).toEqual(v.fallback);
    });

    it.each(v.invalid)(
      `rejects ${v.variable}=%j, naming the variable, value and expectation`,
      (raw) => {
        const error = configError(() => resolveConfig({}, { [v.variable]: raw }));
        expect(error.code).toBe('E_CONFIG_INVALID');
        expect(error).toBeInstanceOf(EnterpriseError);
        expect(error.context.source).toBe(v.variable);
        expect(error.context.value).toBe(raw);
        expect(typeof error.context.expected).toBe('string');
        expect(error.context.expected).not.toBe('');
        expect(error.message.startsWith(`${v.variable}=`)).toBe(true);
        // The value is quoted (and shortened when long) so it cannot break a log line.
        const shown = JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw);
        expect(error.message).toContain(shown);
        expect(error.message).toContain(`expected ${error.context.expected as string}`);
        expect(error.message).not.toContain('\n');
      },
    );
  });
});

describe('resolveConfig values', () => {
  it.each([
    ['3600', 3_600_000],
    ['90', 90_000],
    ['500ms', 500],
    ['30s', 30_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['1.5h', 5_400_000],
  ])('CACHE_DEFAULT_TTL=%s is read as seconds or a unit string', (raw, ms) => {
    expect(resolveConfig({}, { CACHE_DEFAULT_TTL: raw }).cache.defaultTtlMs).toBe(ms);
  });

  it('takes cache.defaultTtl in seconds or as a unit string from code', () => {
    expect(resolveConfig({ cache: { defaultTtl: 3600 } }, {}).cache.defaultTtlMs).toBe(3_600_000);
    expect(resolveConfig({ cache: { defaultTtl: '2h' } }, {}).cache.defaultTtlMs).toBe(7_200_000);
    expect(resolveConfig({ cache: { defaultTtl: '250ms' } }, {}).cache.defaultTtlMs).toBe(250);
  });

  it('keeps the cause of a CACHE_DEFAULT_TTL that is not a duration at all', () => {
    const error = configError(() => resolveConfig({}, { CACHE_DEFAULT_TTL: '5x' }));
    expect(error.cause).toBeInstanceOf(InvalidArgumentError);
  });

  it('keeps the cause of a REDIS_URL that is not a URL', () => {
    const error = configError(() => resolveConfig({}, { REDIS_URL: 'not a url' }));
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  it('accepts numbers with surrounding whitespace from the environment', () => {
    const config = resolveConfig(
      {},
      { PERFORMANCE_ALERT_THRESHOLD_MS: ' 250 ', TASK_WORKER_COUNT: '3 ' },
    );
    expect(config.performance.alertThresholdMs).toBe(250);
    expect(config.tasks.workerCount).toBe(3);
  });

  it('accepts fractional alert thresholds', () => {
    expect(
      resolveConfig({}, { PERFORMANCE_ALERT_THRESHOLD_MS: '0.5' }).performance.alertThresholdMs,
    ).toBe(0.5);
  });

  it('resolves every other setting to its documented default', () => {
    const config = resolveConfig({}, {});
    expect(config.performance).toMatchObject({
      systemMetricsIntervalMs: 5_000,
      openTelemetry: 'auto',
      prometheusPrefix: 'enterprise_',
      prometheusBuckets: DEFAULT_BUCKETS,
      slowLogIntervalMs: 10_000,
    });
    expect(typeof config.clock.now()).toBe('number');
    expect(typeof config.clock.epochNow()).toBe('number');
  });

  it('uses the injected clock', () => {
    const clock = { now: () => 42, epochNow: () => 1_700_000_000_000 };
    expect(resolveConfig({ clock }, {}).clock).toBe(clock);
  });

  it('turns the system metrics sampler off with systemMetrics: false', () => {
    expect(
      resolveConfig({ performance: { systemMetrics: false } }, {}).performance
        .systemMetricsIntervalMs,
    ).toBe(false);
    expect(
      resolveConfig({ performance: { systemMetrics: { intervalMs: 250 } } }, {}).performance
        .systemMetricsIntervalMs,
    ).toBe(250);
  });
});

describe('resolveConfig rejects invalid options from code, naming the option', () => {
  it.each<[string, EnterpriseOptions, string]>([
    [
      'alertThresholdMs 0',
      { performance: { alertThresholdMs: 0 } },
      'performance.alertThresholdMs',
    ],
    ['maxMetrics 1.5', { performance: { maxMetrics: 1.5 } }, 'performance.maxMetrics'],
    ['redisUrl http', { redisUrl: 'http://x' }, 'redisUrl'],
    ['defaultTtl -1', { cache: { defaultTtl: -1 } }, 'cache.defaultTtl'],
    ['maxSize 0', { cache: { maxSize: 0 } }, 'cache.maxSize'],
    ['queueName empty', { tasks: { queueName: '' } }, 'tasks.queueName'],
    ['workerCount 0', { tasks: { workerCount: 0 } }, 'tasks.workerCount'],
    ['maxRetries -1', { tasks: { maxRetries: -1 } }, 'tasks.maxRetries'],
    ['logLevel loud', { logLevel: 'loud' as never }, 'logLevel'],
    [
      'systemMetrics.intervalMs 10',
      { performance: { systemMetrics: { intervalMs: 10 } } },
      'performance.systemMetrics.intervalMs',
    ],
    [
      'openTelemetry "yes"',
      { performance: { openTelemetry: 'yes' as never } },
      'performance.openTelemetry',
    ],
    [
      'prometheus.prefix with a dash',
      { performance: { prometheus: { prefix: 'my-app_' } } },
      'performance.prometheus.prefix',
    ],
    [
      'prometheus.buckets not increasing',
      { performance: { prometheus: { buckets: [0.1, 0.1, 1] } } },
      'performance.prometheus.buckets',
    ],
    [
      'slowLogIntervalMs -1',
      { performance: { slowLogIntervalMs: -1 } },
      'performance.slowLogIntervalMs',
    ],
  ])('%s', (_label, options, source) => {
    const error = configError(() => resolveConfig(options, {}));
    expect(error.code).toBe('E_CONFIG_INVALID');
    expect(error.context.source).toBe(source);
    expect(error.message.startsWith(`${source}=`)).toBe(true);
    expect(error.message).toContain('expected');
  });

  it('rejects options that are not an object', () => {
    const error = configError(() => resolveConfig('fast' as never, {}));
    expect(error.context.source).toBe('options');
  });

  it('describes values that cannot be serialised without throwing another error', () => {
    const buckets: unknown[] = [1];
    buckets.push(buckets);
    const error = configError(() =>
      resolveConfig({ performance: { prometheus: { buckets: buckets as number[] } } }, {}),
    );
    expect(error.context.value).toBe(buckets);
  });
});

describe('where the environment comes from', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('reads process.env when called, not when the module was imported', () => {
    vi.stubEnv('TASK_WORKER_COUNT', '7');
    expect(resolveConfig().tasks.workerCount).toBe(7);
    vi.stubEnv('TASK_WORKER_COUNT', '9');
    expect(resolveConfig().tasks.workerCount).toBe(9);
  });

  it('throws for an invalid process.env value only when configuration is resolved', () => {
    vi.stubEnv('PERFORMANCE_MAX_METRICS', 'lots');
    const error = configError(() => resolveConfig());
    expect(error.context.source).toBe('PERFORMANCE_MAX_METRICS');
  });

  it('uses options.env instead of process.env when given', () => {
    vi.stubEnv('TASK_QUEUE_NAME', 'from-process');
    vi.stubEnv('PERFORMANCE_MAX_METRICS', 'not-a-number');
    const config = resolveConfig({ env: { TASK_QUEUE_NAME: 'from-options' } });
    expect(config.tasks.queueName).toBe('from-options');
    expect(config.performance.maxMetrics).toBe(10_000);
  });

  it('prefers the env argument over options.env', () => {
    const config = resolveConfig(
      { env: { TASK_QUEUE_NAME: 'from-options' } },
      { TASK_QUEUE_NAME: 'from-argument' },
    );
    expect(config.tasks.queueName).toBe('from-argument');
  });

  it('createEnterprise({ env }) configures the instance from that env only', async () => {
    vi.stubEnv('PERFORMANCE_MAX_METRICS', 'not-a-number');
    const enterprise = createEnterprise({
      logLevel: 'silent',
      env: {
        PERFORMANCE_ALERT_THRESHOLD_MS: '250',
        CACHE_DEFAULT_TTL: '5m',
        TASK_QUEUE_NAME: 'emails',
        TASK_WORKER_COUNT: '6',
        TASK_MAX_RETRIES: '1',
        REDIS_URL: 'redis://cache:6379/0',
      },
    });
    expect(enterprise.performance.thresholdMs).toBe(250);
    expect(enterprise.config.performance.maxMetrics).toBe(10_000);
    expect(enterprise.config.cache.defaultTtlMs).toBe(300_000);
    expect(enterprise.config.tasks).toEqual({ queueName: 'emails', workerCount: 6, maxRetries: 1 });
    expect(enterprise.config.redisUrl).toBe('redis://cache:6379/0');
    await enterprise.shutdown();
  });

  it('createEnterprise() throws ConfigError for an invalid variable in its env', () => {
    const error = configError(() =>
      createEnterprise({ logLevel: 'silent', env: { TASK_WORKER_COUNT: 'zero' } }),
    );
    expect(error.message).toContain('TASK_WORKER_COUNT="zero"');
  });
});

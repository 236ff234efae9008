import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  configure,
  createEnterprise,
  Enterprise,
  getEnterprise,
  performanceMonitor,
} from '../../src/index.js';
import { recordingLogger } from '../support/test-doubles.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const entry = fileURLToPath(new URL('../../src/index.ts', import.meta.url));

/** The seed's variables and ours: none of them may be read while the package is imported. */
const OUR_VARIABLES = [
  'PERFORMANCE_ALERT_THRESHOLD_MS',
  'PERFORMANCE_MAX_METRICS',
  'REDIS_URL',
  'CACHE_DEFAULT_TTL',
  'CACHE_MAX_SIZE',
  'TASK_QUEUE_NAME',
  'TASK_WORKER_COUNT',
  'TASK_MAX_RETRIES',
  'LOG_LEVEL',
];

/**
 * Runs an ES module script in a fresh Node process that loads TypeScript through tsx, with a
 * minimal environment plus `env`. Resolves with the JSON the script printed last.
 */
async function runScript(script: string, env: Record<string, string> = {}): Promise<any> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      timeout: 15_000,
    },
  );
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? 'null');
}

describe('importing the package', () => {
  it('starts no timer, opens no handle and reads none of our variables', async () => {
    const result = await runScript(
      `
      const reads = new Set();
      const env = process.env;
      process.env = new Proxy(env, {
        get: (target, key) => { reads.add(String(key)); return Reflect.get(target, key); },
        has: (target, key) => { reads.add(String(key)); return Reflect.has(target, key); },
        ownKeys: (target) => { reads.add('<all>'); return Reflect.ownKeys(target); },
      });
      // Let the loader's own start-up work settle first.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const timers = [];
      for (const name of ['setTimeout', 'setInterval', 'setImmediate']) {
        const original = globalThis[name];
        globalThis[name] = function (...args) { timers.push(name); return original.apply(this, args); };
      }
      const before = process.getActiveResourcesInfo();
      let importError = null;
      let exports = [];
      try {
        exports = Object.keys(await import(${JSON.stringify(entry)}));
      } catch (error) {
        importError = String(error);
      }
      const after = process.getActiveResourcesInfo();
      process.env = env;
      console.log(JSON.stringify({ before, after, timers, reads: [...reads], importError, exports }));
      `,
      { PERFORMANCE_MAX_METRICS: 'not-a-number', LOG_LEVEL: 'loud' },
    );
    expect(result.importError).toBeNull();
    expect(result.exports).toEqual(expect.arrayContaining(['createEnterprise', 'configure']));
    expect(result.timers).toEqual([]);
    // No handle more of any kind (the loader may close one of its own meanwhile).
    const counts = (handles: string[]) => {
      const byType = new Map<string, number>();
      for (const type of handles) byType.set(type, (byType.get(type) ?? 0) + 1);
      return byType;
    };
    const before = counts(result.before);
    for (const [type, n] of counts(result.after)) {
      expect(n, type).toBeLessThanOrEqual(before.get(type) ?? 0);
    }
    for (const variable of OUR_VARIABLES) expect(result.reads).not.toContain(variable);
    expect(result.reads).not.toContain('<all>');
  });

  it('fails on an invalid variable only when an instance is created', async () => {
    const result = await runScript(
      `
      const { createEnterprise, getEnterprise, configure } = await import(${JSON.stringify(entry)});
      const attempt = (fn) => {
        try { fn(); return 'ok'; } catch (error) { return { name: error.name, code: error.code, message: error.message }; }
      };
      console.log(JSON.stringify({
        getEnterprise: attempt(() => getEnterprise()),
        getEnterpriseAgain: attempt(() => getEnterprise()),
        createEnterprise: attempt(() => createEnterprise()),
        configure: attempt(() => configure()),
        withOwnEnv: attempt(() => createEnterprise({ env: {}, logLevel: 'silent' })),
        withOption: attempt(() => createEnterprise({ performance: { maxMetrics: 5 } })),
      }));
      `,
      { PERFORMANCE_MAX_METRICS: 'not-a-number' },
    );
    const expected = {
      name: 'ConfigError',
      code: 'E_CONFIG_INVALID',
      message: expect.stringContaining('PERFORMANCE_MAX_METRICS="not-a-number"'),
    };
    expect(result.getEnterprise).toEqual(expected);
    expect(result.getEnterpriseAgain).toEqual(expected);
    expect(result.createEnterprise).toEqual(expected);
    expect(result.configure).toEqual(expected);
    expect(result.withOwnEnv).toBe('ok');
    expect(result.withOption).toBe('ok');
  });

  it('builds the default instance from the environment on first use', async () => {
    const result = await runScript(
      `
      const { getEnterprise } = await import(${JSON.stringify(entry)});
      const enterprise = getEnterprise();
      console.log(JSON.stringify({
        same: getEnterprise() === enterprise,
        thresholdMs: enterprise.performance.thresholdMs,
        queueName: enterprise.config.tasks.queueName,
      }));
      `,
      { PERFORMANCE_ALERT_THRESHOLD_MS: '321', TASK_QUEUE_NAME: 'from-env', LOG_LEVEL: 'silent' },
    );
    expect(result).toEqual({ same: true, thresholdMs: 321, queueName: 'from-env' });
  });

  it('a started instance does not keep the process alive, and shutdown leaves no handle', async () => {
    const result = await runScript(
      `
      const { createEnterprise } = await import(${JSON.stringify(entry)});
      // The baseline once the process has settled: on Node 24 the loader's own connections are
      // still opening right after the import, and close on their own shortly after.
      let before = process.getActiveResourcesInfo();
      for (let i = 0; i < 100; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const now = process.getActiveResourcesInfo();
        if (JSON.stringify(now) === JSON.stringify(before)) break;
        before = now;
      }
      const kept = createEnterprise({ env: {}, logLevel: 'silent', performance: { systemMetrics: { intervalMs: 100 } } });
      await kept.start();
      const whileStarted = process.getActiveResourcesInfo();
      const other = createEnterprise({ env: {}, logLevel: 'silent', performance: { systemMetrics: { intervalMs: 100 } } });
      await other.start();
      await new Promise((resolve) => setTimeout(resolve, 150));
      await other.shutdown();
      const afterShutdown = process.getActiveResourcesInfo();
      console.log(JSON.stringify({ before, whileStarted, afterShutdown }));
      // 'kept' is never shut down: its unref'd timer must not hold the process open.
      `,
    );
    expect(result.whileStarted).toEqual(result.before);
    expect(result.afterShutdown).toEqual(result.before);
  });
});

describe('configure() and getEnterprise()', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('configure() returns the new default that getEnterprise() then returns', async () => {
    const first = configure({ env: {}, logLevel: 'silent', performance: { alertThresholdMs: 11 } });
    expect(first).toBeInstanceOf(Enterprise);
    expect(getEnterprise()).toBe(first);
    expect(getEnterprise().performance.thresholdMs).toBe(11);
    const second = configure({
      env: {},
      logLevel: 'silent',
      performance: { alertThresholdMs: 22 },
    });
    expect(second).not.toBe(first);
    expect(getEnterprise()).toBe(second);
    expect(performanceMonitor.thresholdMs).toBe(22);
    await second.shutdown();
  });

  it('configure() shuts the previous default down', async () => {
    const first = configure({ env: {}, logLevel: 'silent' });
    await first.start();
    const second = configure({ env: {}, logLevel: 'silent' });
    await vi.waitFor(() => expect(first.state).toBe('stopped'));
    expect(second.state).toBe('created');
    await second.shutdown();
  });

  it('configure() with an invalid option throws and keeps the previous default', async () => {
    const current = configure({ env: {}, logLevel: 'silent' });
    expect(() => configure({ env: {}, tasks: { workerCount: -1 } })).toThrow(ConfigError);
    expect(getEnterprise()).toBe(current);
    expect(current.state).toBe('created');
    await current.shutdown();
  });

  it('configure() reads process.env when called', async () => {
    vi.stubEnv('PERFORMANCE_ALERT_THRESHOLD_MS', '123');
    const instance = configure({ logLevel: 'silent' });
    expect(instance.performance.thresholdMs).toBe(123);
    await instance.shutdown();
  });

  it('createEnterprise() builds isolated instances that do not touch the default', async () => {
    const current = configure({ env: {}, logLevel: 'silent' });
    const a = createEnterprise({ env: {}, logLevel: 'silent' });
    const b = createEnterprise({ env: {}, logLevel: 'silent' });
    a.performance.wrap('only_in_a', () => 1)();
    expect(a.performance.getStats('only_in_a')?.windows.all.count).toBe(1);
    expect(b.performance.getStats('only_in_a')).toBeUndefined();
    expect(current.performance.getStats('only_in_a')).toBeUndefined();
    expect(getEnterprise()).toBe(current);
    await Promise.all([a.shutdown(), b.shutdown(), current.shutdown()]);
  });

  it('the instance logger writes as module "enterprise"', async () => {
    const host = recordingLogger({ withChild: false });
    const instance = createEnterprise({ env: {}, logger: host });
    instance.logger.info({ a: 1 }, 'hello');
    expect(host.calls).toEqual([
      { level: 'info', fields: { module: 'enterprise', a: 1 }, message: 'hello' },
    ]);
    await instance.shutdown();
  });
});

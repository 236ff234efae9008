import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { configure, getEnterprise, performanceMonitor } from '../../src/index.js';

const run = promisify(execFile);

function tsx(file: string, env: Record<string, string> = {}) {
  return run(process.execPath, ['--import', 'tsx', file], {
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
}

describe('the default instance', () => {
  afterEach(() => {
    performanceMonitor.removeAllListeners();
  });

  it('names operations after the declaring class under esbuild keepNames, statics and #private methods included', async () => {
    const { stdout } = await tsx('tests/fixtures/names.ts');
    expect(JSON.parse(stdout)).toEqual(['Repo.#find', 'Repo.create', 'Repo.find']);
  });

  it('runs monitored calls unmonitored, warning once, when the environment is invalid', async () => {
    const { stdout, stderr } = await tsx('tests/fixtures/bad-env.ts', {
      PERFORMANCE_MAX_METRICS: '10k',
    });
    expect(JSON.parse(stdout)).toEqual({ results: [3, 7], getEnterpriseError: 'E_CONFIG_INVALID' });
    const warnings = stderr.split('\n').filter((line) => line.includes('EnterpriseWarning'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('PERFORMANCE_MAX_METRICS');
  });

  it('moves listeners added through performanceMonitor to the instance configure() installs', () => {
    configure({ logLevel: 'silent', performance: { alertThresholdMs: 1, systemMetrics: false } });
    const heard: string[] = [];
    const listener = (event: { name: string }) => heard.push(event.name);
    performanceMonitor.on('slow', listener);
    const next = configure({
      logLevel: 'silent',
      performance: { alertThresholdMs: 1, systemMetrics: false },
    });
    expect(next.performance.listenerCount('slow')).toBe(1);
    next.performance.record('after_configure', 5);
    expect(heard).toEqual(['after_configure']);
    performanceMonitor.off('slow', listener);
    const third = configure({
      logLevel: 'silent',
      performance: { alertThresholdMs: 1, systemMetrics: false },
    });
    third.performance.record('after_off', 5);
    expect(heard).toEqual(['after_configure']);
    expect(third.performance.listenerCount('slow')).toBe(0);
  });

  it('does not carry over a once() listener that already fired', () => {
    configure({ logLevel: 'silent', performance: { alertThresholdMs: 1, systemMetrics: false } });
    let calls = 0;
    performanceMonitor.once('slow', () => calls++);
    getEnterprise().performance.record('first', 5);
    const next = configure({
      logLevel: 'silent',
      performance: { alertThresholdMs: 1, systemMetrics: false },
    });
    next.performance.record('second', 5);
    expect(calls).toBe(1);
  });

  it('keeps system metrics current without start(): reading samples again after a second', async () => {
    const enterprise = configure({ logLevel: 'silent' });
    const first = enterprise.performance.system()!;
    expect(enterprise.performance.system()!.sampledAt).toBe(first.sampledAt);
    await sleep(1_100);
    const second = enterprise.performance.system()!;
    expect(second.sampledAt).not.toBe(first.sampledAt);
    await enterprise.shutdown();
    await sleep(1_100);
    expect(enterprise.performance.system()!.sampledAt).not.toBe(second.sampledAt);
  });
});

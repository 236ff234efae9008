import { getHeapStatistics } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BUILTIN_RULES,
  type BuiltinRuleKey,
  builtinRules,
} from '../../src/alerts/builtin-rules.js';
import { createDetector } from '../../src/alerts/detectors/index.js';
import { AlertRuleError } from '../../src/alerts/errors.js';
import { breakerSources } from '../../src/alerts/sources/breakers.js';
import { cacheSources } from '../../src/alerts/sources/cache.js';
import { healthSources } from '../../src/alerts/sources/health.js';
import { performanceSources } from '../../src/alerts/sources/performance.js';
import { securitySources } from '../../src/alerts/sources/security.js';
import { taskSources } from '../../src/alerts/sources/tasks.js';
import type { AlertRuleDefinition } from '../../src/alerts/types.js';
import { parseDuration } from '../../src/core/duration.js';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import { HealthRegistry } from '../../src/resilience/health-registry.js';

const instances: Enterprise[] = [];

afterEach(async () => {
  await Promise.all(instances.splice(0).map((e) => e.shutdown()));
});

/** The names of every source the package builds, from real modules. */
function allSourceNames(): string[] {
  const e = createEnterprise({
    logLevel: 'silent',
    env: {},
    performance: { systemMetrics: false },
  });
  instances.push(e);
  return [
    ...performanceSources(e.performance),
    ...cacheSources(e.cache),
    ...taskSources(e.tasks),
    ...healthSources(() => new HealthRegistry().check()),
    ...securitySources({ score: () => ({ score: 100 }) }),
    ...breakerSources({ list: () => [] }),
  ].map((s) => s.name);
}

const byName = (rules: AlertRuleDefinition[], name: string) => {
  const found = rules.find((r) => r.name === name);
  if (found === undefined) throw new Error(`no rule ${name}`);
  return found;
};

const KEYS = Object.keys(BUILTIN_RULES) as BuiltinRuleKey[];
const TEMPLATE_FIELD = /\{\{\s*(value|rule|severity|reason|labels\.[a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g;

describe('built-in rules', () => {
  it('are valid definitions: unique names, one condition key, known sources, durations, templates', () => {
    const rules = builtinRules();
    expect(rules.map((r) => r.name)).toEqual(Object.values(BUILTIN_RULES));
    expect(new Set(rules.map((r) => r.name)).size).toBe(rules.length);
    const sources = new Set(allSourceNames());
    for (const rule of rules) {
      expect(Object.keys(rule.condition), rule.name).toHaveLength(1);
      expect(['above', 'below', 'anomaly', 'trend', 'forecast']).toContain(
        Object.keys(rule.condition)[0],
      );
      expect(sources.has(rule.watch as string), `${rule.name} watches ${String(rule.watch)}`).toBe(
        true,
      );
      if (rule.for !== undefined) expect(parseDuration(rule.for)).toBeGreaterThan(0);
      expect(['info', 'warning', 'critical']).toContain(rule.severity);
      expect(rule.summary).toBeTruthy();
      // Only the template fields the engine knows, and no stray braces.
      expect(rule.summary!.replace(TEMPLATE_FIELD, '')).not.toMatch(/[{}]/);
    }
  });

  it('watch what the issue asks, with the documented defaults', () => {
    const rules = builtinRules({ alertThresholdMs: 750, memoryExhaustion: { limitBytes: 2e9 } });
    expect(byName(rules, 'SlowRequests')).toMatchObject({
      watch: 'operation.p95',
      condition: { above: 750 },
      noData: 'ok',
    });
    expect(byName(rules, 'ErrorRateSpike')).toMatchObject({
      watch: 'operation.error_rate',
      condition: { anomaly: { direction: 'up', floor: 0.05 } },
    });
    expect(byName(rules, 'EventLoopBlocked')).toMatchObject({
      watch: 'system.event_loop_delay_p99_ms',
      condition: { above: 200 },
      for: '1m',
    });
    expect(byName(rules, 'MemoryExhaustionForecast')).toMatchObject({
      watch: 'system.rss_bytes',
      condition: { forecast: { threshold: 2e9, within: '30m' } },
      severity: 'critical',
    });
    expect(byName(rules, 'TaskBacklogGrowing')).toMatchObject({
      watch: 'tasks.queue_depth',
      condition: { trend: { slopeAbove: 1 } },
    });
    expect(byName(rules, 'DeadLetterQueueGrowing')).toMatchObject({
      watch: 'tasks.dead_letters',
      condition: { trend: { slopeAbove: 0 } },
    });
    expect(byName(rules, 'CacheHitRatioCollapse')).toMatchObject({
      watch: 'cache.hit_ratio',
      condition: { anomaly: { direction: 'down' } },
    });
    expect(byName(rules, 'HealthComponentDown')).toMatchObject({
      watch: 'health.status',
      condition: { above: 1.5 },
      severity: 'critical',
    });
    expect(byName(rules, 'SecurityStoreDown')).toMatchObject({
      watch: 'health.status',
      where: { component: 'security' },
      condition: { above: 0.5 },
      severity: 'warning',
      noData: 'ok',
    });
  });

  it("forecasts memory against V8's heap size limit unless given a limit", () => {
    const rule = byName(builtinRules(), 'MemoryExhaustionForecast');
    expect(rule.condition).toEqual({
      forecast: { threshold: getHeapStatistics().heap_size_limit, within: '30m', window: '30m' },
    });
  });

  it('fire on what they are meant to: the threshold rules judged by the threshold detector', () => {
    const rules = builtinRules({ alertThresholdMs: 500 });
    const judge = (name: string, value: number) => {
      const detector = createDetector(byName(rules, name).condition, name);
      detector.observe(0, value);
      return detector.evaluate(0)?.breached;
    };
    expect(judge('SlowRequests', 620)).toBe(true);
    expect(judge('SlowRequests', 480)).toBe(false);
    expect(judge('EventLoopBlocked', 350)).toBe(true);
    expect(judge('EventLoopBlocked', 20)).toBe(false);
    // health.status: 0 ok, 1 degraded, 2 down; only down fires.
    expect(judge('HealthComponentDown', 2)).toBe(true);
    expect(judge('HealthComponentDown', 1)).toBe(false);
    // The security component is degraded (1) while a store fails: that fires SecurityStoreDown.
    expect(judge('SecurityStoreDown', 1)).toBe(true);
    expect(judge('SecurityStoreDown', 0)).toBe(false);
  });

  it.each(KEYS)('switch %s off by its option, leaving the others', (key) => {
    const rules = builtinRules({ [key]: false });
    expect(rules.map((r) => r.name)).not.toContain(BUILTIN_RULES[key]);
    expect(rules).toHaveLength(KEYS.length - 1);
    expect(builtinRules({ [key]: true }).map((r) => r.name)).toContain(BUILTIN_RULES[key]);
  });

  it('take tuning: thresholds, pending period, severity, where and labels', () => {
    const rules = builtinRules({
      alertThresholdMs: 1_000,
      slowRequests: {
        thresholdMs: 300,
        for: '10m',
        severity: 'critical',
        where: { operation: 'http.request' },
        labels: { team: 'web' },
      },
      eventLoopBlocked: { thresholdMs: 500 },
      errorRateSpike: { floor: 0.2, sensitivity: 6 },
      deadLetters: { above: 10 },
      taskBacklog: { slopeAbove: 5, window: '1h' },
    });
    expect(byName(rules, 'SlowRequests')).toMatchObject({
      condition: { above: 300 },
      for: '10m',
      severity: 'critical',
      where: { operation: 'http.request' },
      labels: { team: 'web' },
    });
    expect(byName(rules, 'SlowRequests').summary).toContain('300 ms');
    expect(byName(rules, 'EventLoopBlocked').condition).toEqual({ above: 500 });
    expect(byName(rules, 'ErrorRateSpike').condition).toEqual({
      anomaly: { direction: 'up', sensitivity: 6, floor: 0.2 },
    });
    expect(byName(rules, 'DeadLetterQueueGrowing').condition).toEqual({ above: 10 });
    expect(byName(rules, 'TaskBacklogGrowing').condition).toEqual({
      trend: { window: '1h', slopeAbove: 5 },
    });
  });

  it('leave out the rules whose source does not exist', () => {
    const e = createEnterprise({ logLevel: 'silent', env: {} });
    instances.push(e);
    const names = performanceSources(e.performance).map((s) => s.name);
    expect(builtinRules({ sources: names }).map((r) => r.name)).toEqual([
      'SlowRequests',
      'ErrorRateSpike',
      'EventLoopBlocked',
      'MemoryExhaustionForecast',
    ]);
  });

  it('refuse a bad option with an error naming the rule and the field', () => {
    const attempt = (options: Parameters<typeof builtinRules>[0]) => {
      try {
        builtinRules(options);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    const error = attempt({ slowRequests: { thresholdMs: -5 } });
    expect(error).toBeInstanceOf(AlertRuleError);
    expect(error).toMatchObject({
      code: 'E_ALERT_RULE',
      context: { rule: 'SlowRequests', field: 'slowRequests.thresholdMs', value: -5 },
    });
    expect(attempt({ errorRateSpike: { floor: 2 } })).toMatchObject({
      context: { rule: 'ErrorRateSpike', field: 'errorRateSpike.floor' },
    });
    expect(attempt({ cacheHitRatioCollapse: 'no' as never })).toMatchObject({
      context: { rule: 'CacheHitRatioCollapse', field: 'cacheHitRatioCollapse' },
    });
  });
});

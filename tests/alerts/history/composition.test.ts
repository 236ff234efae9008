// An instance with the metrics history seeds its alert rules from it at start.
import { afterEach, describe, expect, it } from 'vitest';
import { Alerts } from '../../../src/alerts/alerts.js';
import { MemoryHistoryStore } from '../../../src/analytics/history/memory-store.js';
import { createEnterprise, type Enterprise } from '../../../src/index.js';
import { MINUTE, metricRollup, writeMinutes } from './helpers.js';

const open: Enterprise[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((enterprise) => enterprise.shutdown()));
});

function capturing() {
  const lines: { level: string; fields: unknown; message: string }[] = [];
  const log =
    (level: string) =>
    (fields: unknown, message = '') =>
      lines.push({ level, fields, message });
  const logger = {
    trace: log('trace'),
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    fatal: log('fatal'),
  };
  return { lines, logger };
}

const rules = [
  {
    name: 'HeapClimbing',
    watch: 'system.heap_used_bytes',
    condition: { trend: { slopeAbove: 1_000_000 } },
  },
];

describe('alerts of an instance with the metrics history', () => {
  it('seed their learning rules from the history store', async () => {
    const store = new MemoryHistoryStore();
    const now = Date.now();
    await writeMinutes(store, now - 40 * MINUTE, now - MINUTE, MINUTE, (at) => [
      metricRollup('system.memory.heap_used', 1e8 + at / 1000),
    ]);
    const { lines, logger } = capturing();
    const enterprise = createEnterprise({
      logger,
      logLevel: 'debug',
      env: {},
      analytics: { history: { store } },
      alerts: { builtin: false, rules },
    });
    open.push(enterprise);
    await enterprise.start();
    await enterprise.alerts.seeded();
    const seeded = lines.find((l) => l.message.includes('seeded from the metrics history'));
    expect(seeded?.fields).toMatchObject({ rules: 1, series: 1 });
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
  });

  it('leave the history alone with alerts.history: false', async () => {
    const store = new MemoryHistoryStore();
    let asked = 0;
    store.series = async () => {
      asked++;
      return [];
    };
    const { lines, logger } = capturing();
    const enterprise = createEnterprise({
      logger,
      logLevel: 'debug',
      env: {},
      analytics: { history: { store } },
      alerts: { builtin: false, rules, history: false },
    });
    open.push(enterprise);
    await enterprise.start();
    await enterprise.alerts.seeded();
    expect(asked).toBe(0);
    expect(lines.filter((l) => l.message.includes('metrics history'))).toEqual([]);
  });

  it('reject a history that is not a reader, and a bad historyTimeout, naming the option', () => {
    expect(() => new Alerts({ history: 42 as never })).toThrow(
      expect.objectContaining({
        code: 'E_ALERT_RULE',
        context: expect.objectContaining({ field: 'history' }),
      }),
    );
    expect(() => new Alerts({ historyTimeout: 'soon' as never })).toThrow(
      expect.objectContaining({ context: expect.objectContaining({ field: 'historyTimeout' }) }),
    );
  });

  it('learn live, with one warning, when the history store fails', async () => {
    const store = new MemoryHistoryStore();
    // Fault injection: the store's reads fail.
    store.series = () => Promise.reject(new Error('history store unavailable'));
    const { lines, logger } = capturing();
    const enterprise = createEnterprise({
      logger,
      env: {},
      analytics: { history: { store } },
      alerts: { builtin: false, rules },
    });
    open.push(enterprise);
    await enterprise.start();
    await enterprise.alerts.seeded();
    const warnings = lines.filter((l) => l.level === 'warn');
    expect(warnings.map((l) => l.message)).toEqual([
      'alerts: the metrics history could not be read; rules learn from live readings',
    ]);
    expect(enterprise.alerts.rules().map((r) => r.name)).toEqual(['HeapClimbing']);
  });

  it('learn live without the history module, and say nothing of it', async () => {
    const { lines, logger } = capturing();
    const enterprise = createEnterprise({ logger, env: {}, alerts: { builtin: false, rules } });
    open.push(enterprise);
    await enterprise.start();
    await enterprise.alerts.seeded();
    expect(enterprise.peek('history')).toBeUndefined();
    expect(lines.filter((l) => l.message.includes('metrics history'))).toEqual([]);
  });
});

// The alerts and security sections an instance wires into its reports (the analytics module imports
// neither module): a firing alert and its transition in range, and the security score.
import { afterEach, describe, expect, it } from 'vitest';
import type { ReportData } from '../../../src/analytics/reports/types.js';
import { createEnterprise } from '../../../src/index.js';

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} };
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const section = (data: ReportData, name: string) => data.sections.find((s) => s.name === name)!;

describe('sections of the alerts and security modules', () => {
  it('show what those modules hold', async () => {
    const depth = 500;
    const enterprise = createEnterprise({
      logger: silent,
      env: {},
      alerts: {
        builtin: false,
        sources: [{ name: 'orders.backlog', read: () => [{ labels: {}, value: depth }] }],
        rules: [
          {
            name: 'OrdersBacklog',
            watch: 'orders.backlog',
            condition: { above: 100 },
            for: 0,
            severity: 'critical',
          },
        ],
      },
      security: {},
    });
    cleanup.push(() => enterprise.shutdown());
    enterprise.reports.define('ops', {
      sections: ['alerts', 'security'],
      period: '1h',
      formats: ['json'],
    });
    expect(enterprise.reports.sections()).toEqual(expect.arrayContaining(['alerts', 'security']));

    await enterprise.alerts.evaluate();
    // Sections read modules once built (start() would build security from its options).
    const score = enterprise.security.score().score;
    const { data } = await enterprise.reports.generate('ops', { to: Date.now() + 60_000 });
    const alerts = section(data, 'alerts');
    expect(alerts.error).toBeUndefined();
    expect(alerts.figures).toEqual([
      { label: 'Fired in range', value: 1 },
      { label: 'Firing now', value: 1 },
      { label: 'Pending now', value: 0 },
    ]);
    expect(alerts.tables![0]!.rows).toEqual([
      ['OrdersBacklog', 'firing', 'critical', 500, expect.any(String), null, null],
    ]);
    expect(alerts.tables![1]!.rows).toEqual([['OrdersBacklog', 'critical', 1, 0]]);

    const security = section(data, 'security');
    expect(security.error).toBeUndefined();
    expect(security.figures![0]).toEqual({ label: 'Score', value: score });
    expect(security.tables![0]!.rows.length).toBeGreaterThan(0);
  });
});

describe('reports options of an instance', () => {
  it('are checked at creation, naming the option', () => {
    expect(() =>
      createEnterprise({
        logger: silent,
        env: {},
        reports: { definitions: { daily: { sections: ['performance', 'nope'] } } },
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'E_REPORT_CONFIG',
        context: expect.objectContaining({ report: 'daily', field: 'sections[1]' }),
      }),
    );
  });
});

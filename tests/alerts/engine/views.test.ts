import { afterEach, describe, expect, it } from 'vitest';
import { alertView, type RenderedAnnotations } from '../../../src/alerts/alert-view.js';
import type { Alerts } from '../../../src/alerts/alerts.js';
import { INACTIVE } from '../../../src/alerts/lifecycle.js';
import { compileRule } from '../../../src/alerts/rule.js';
import { EPOCH, gauge, SECOND, testAlerts } from './helpers.js';

describe('alert views', () => {
  let alerts: Alerts | undefined;
  afterEach(async () => {
    await alerts?.close();
    alerts = undefined;
  });

  it('builds a view when it is read and keeps it until the next tick, which leaves it as it was', async () => {
    const g = gauge(5);
    const t = testAlerts();
    alerts = t.alerts;
    alerts.rule({
      name: 'High',
      watch: g.read,
      condition: { above: 1 },
      summary: 'value {{value}}',
    });
    await t.step(0);
    const first = alerts.list()[0]!;
    expect(alerts.list()[0]).toBe(first);
    expect(alerts.get(first.fingerprint)).toBe(first);

    g.value = 7;
    await t.step(SECOND);
    const second = alerts.get(first.fingerprint)!;
    expect(second).not.toBe(first);
    expect(second).toMatchObject({ value: 7, annotations: { summary: 'value 7' } });
    expect(first).toMatchObject({ value: 5, annotations: { summary: 'value 5' } });
    expect(first.lastEvaluatedAt).toBe(new Date(EPOCH).toISOString());
    expect(second.lastEvaluatedAt).toBe(new Date(EPOCH + SECOND).toISOString());
  });

  it('shows the last tick, evidence included, to a reader while the next tick waits for a source', async () => {
    const g = gauge(5);
    let answer: ((value: number) => void) | undefined;
    const t = testAlerts({
      sources: [
        {
          name: 'slow',
          read: () =>
            new Promise((resolve) => {
              answer = (value) => resolve([{ labels: {}, value }]);
            }),
        },
      ],
    });
    alerts = t.alerts;
    alerts.rule({ name: 'High', watch: g.read, condition: { above: 1 } });
    alerts.rule({ name: 'Slow', watch: 'slow', condition: { above: 1 } });
    let tick = t.step(0);
    await new Promise((resolve) => setImmediate(resolve));
    answer!(2);
    await tick;
    const fingerprint = alerts.list().find((a) => a.rule === 'High')!.fingerprint;

    g.value = 7;
    tick = t.step(SECOND);
    await new Promise((resolve) => setImmediate(resolve));
    // The next tick has read the gauge and waits for the slow source.
    expect(alerts.get(fingerprint)).toMatchObject({
      value: 5,
      verdict: { breached: true, value: 5, reason: '5 is above 1' },
    });
    answer!(2);
    await tick;
    expect(alerts.get(fingerprint)).toMatchObject({
      value: 7,
      verdict: { breached: true, value: 7, reason: '7 is above 1' },
    });
  });

  it('renders the summary again when the value changes, and shows the same text while it stays', async () => {
    const g = gauge(5);
    const t = testAlerts();
    alerts = t.alerts;
    alerts.rule({
      name: 'High',
      watch: g.read,
      condition: { above: 1 },
      summary: '{{rule}} at {{value}}: {{reason}}',
      annotations: { runbook: 'https://runbooks.example.com/{{rule}}?v={{value}}' },
    });
    const summaries: string[] = [];
    for (const value of [5, 5, 8, 8, 0.5]) {
      g.value = value;
      await t.step(SECOND);
      const view = alerts.list({ state: ['firing', 'resolved'] })[0]!;
      summaries.push(`${view.annotations.summary} | ${view.annotations.runbook}`);
    }
    expect(summaries).toEqual([
      'High at 5: 5 is above 1 | https://runbooks.example.com/High?v=5',
      'High at 5: 5 is above 1 | https://runbooks.example.com/High?v=5',
      'High at 8: 8 is above 1 | https://runbooks.example.com/High?v=8',
      'High at 8: 8 is above 1 | https://runbooks.example.com/High?v=8',
      'High at 0.5: 0.5 is not above 1 | https://runbooks.example.com/High?v=0.5',
    ]);
  });

  it('runs the templates only when the value or the reason differs from the last rendering', () => {
    const rule = compileRule(
      { name: 'R', watch: () => 1, condition: { above: 1 }, summary: '{{value}} {{reason}}' },
      { defaultIntervalMs: 1_000 },
    );
    let renders = 0;
    const counted = {
      ...rule,
      summary: (c: Parameters<NonNullable<typeof rule.summary>>[0]) => {
        renders++;
        return rule.summary!(c);
      },
    };
    const rendered: RenderedAnnotations = {
      value: null,
      reason: undefined,
      annotations: undefined,
    };
    const series = (value: number, reason: string) => ({
      fingerprint: 'f',
      labels: { alertname: 'R' },
      state: INACTIVE,
      value,
      verdict: { breached: false, value, reason },
      lastEvaluatedAt: EPOCH,
    });
    const a = alertView(counted, series(1, 'calm'), {}, rendered);
    const b = alertView(counted, series(1, 'calm'), {}, rendered);
    expect(renders).toBe(1);
    expect(b.annotations).toEqual({ summary: '1 calm' });
    expect(b.annotations).not.toBe(a.annotations);
    alertView(counted, series(2, 'calm'), {}, rendered);
    expect(renders).toBe(2);
    const c = alertView(counted, series(2, 'stormy'), {}, rendered);
    expect(renders).toBe(3);
    expect(c.annotations).toEqual({ summary: '2 stormy' });
    // Without a cache, every view renders.
    alertView(counted, series(2, 'stormy'), {});
    expect(renders).toBe(4);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { Alerts } from '../../../src/alerts/alerts.js';
import { AlertChannelError, AlertRuleError } from '../../../src/alerts/errors.js';
import { alertFingerprint } from '../../../src/alerts/fingerprint.js';
import { compileRule } from '../../../src/alerts/rule.js';
import { compileTemplate } from '../../../src/alerts/template.js';
import type { AlertRuleDefinition } from '../../../src/alerts/types.js';
import { channel, memoryLogger, testAlerts } from './helpers.js';

const base: AlertRuleDefinition = {
  name: 'Slow',
  watch: 'operation.p95',
  condition: { above: 500 },
};

/** The AlertRuleError `definition` raises, for its context. */
function ruleError(
  definition: Partial<AlertRuleDefinition> & Record<string, unknown>,
  sources?: string[],
) {
  try {
    compileRule({ ...base, ...definition } as AlertRuleDefinition, {
      defaultIntervalMs: 15_000,
      sources: sources === undefined ? undefined : new Set(sources),
    });
  } catch (error) {
    expect(error).toBeInstanceOf(AlertRuleError);
    return (error as AlertRuleError).context as { rule: string; field: string; value: unknown };
  }
  throw new Error('expected an AlertRuleError');
}

describe('rule validation', () => {
  it('normalises durations to milliseconds and defaults the rest', () => {
    const rule = compileRule(
      { ...base, for: '2m', keepFiringFor: 30, interval: '500ms' },
      { defaultIntervalMs: 15_000 },
    );
    expect(rule).toMatchObject({
      forMs: 120_000,
      keepFiringForMs: 30_000,
      intervalMs: 500,
      severity: 'warning',
      noData: 'nodata',
    });
    expect(compileRule(base, { defaultIntervalMs: 15_000 }).intervalMs).toBe(15_000);
  });

  it('names the field of each problem', () => {
    expect(ruleError({ name: '' }).field).toBe('name');
    expect(ruleError({ watch: 'nope' }, ['operation.p95'])).toMatchObject({
      rule: 'Slow',
      field: 'watch',
      value: 'nope',
    });
    expect(ruleError({ watch: 42 as never }).field).toBe('watch');
    expect(ruleError({ condition: {} as never }).field).toBe('condition');
    expect(ruleError({ condition: { above: 1, below: 0 } as never }).field).toBe('condition');
    expect(ruleError({ condition: { sideways: 1 } as never }).field).toBe('condition');
    expect(ruleError({ condition: { above: Number.NaN } }).field).toBe('condition.above');
    expect(ruleError({ for: -1 }).field).toBe('for');
    expect(ruleError({ for: '5 minutes' as never }).field).toBe('for');
    expect(ruleError({ keepFiringFor: -5 }).field).toBe('keepFiringFor');
    expect(ruleError({ interval: 0 }).field).toBe('interval');
    expect(ruleError({ severity: 'fatal' as never }).field).toBe('severity');
    expect(ruleError({ noData: 'maybe' as never }).field).toBe('noData');
    expect(ruleError({ labels: { 'bad-name': 'x' } }).field).toBe('labels.bad-name');
    expect(ruleError({ labels: { team: 1 as never } }).field).toBe('labels.team');
    expect(ruleError({ labels: { alertname: 'x' } }).field).toBe('labels.alertname');
    expect(ruleError({ summary: '{{valeu}} ms' })).toMatchObject({
      field: 'summary',
      value: '{{valeu}} ms',
    });
    expect(ruleError({ annotations: { runbook: 'see {{labels.}}' } }).field).toBe(
      'annotations.runbook',
    );
  });

  it('accepts a source name when no source is known yet, and a function', () => {
    expect(
      compileRule({ ...base, watch: 'later' }, { defaultIntervalMs: 1, sources: new Set() }).watch,
    ).toBe('later');
    expect(typeof compileRule({ ...base, watch: () => 1 }, { defaultIntervalMs: 1 }).watch).toBe(
      'function',
    );
  });

  it('refuses a duplicate rule name and an unknown source through the engine', async () => {
    const alerts = new Alerts({
      logger: memoryLogger(),
      sources: [{ name: 'cpu', read: () => [] }],
    });
    const handle = alerts.rule({ ...base, watch: 'cpu' });
    expect(() => alerts.rule({ ...base, watch: 'cpu' })).toThrow(AlertRuleError);
    expect(() => alerts.rule({ ...base, name: 'Other', watch: 'memory' })).toThrow(
      /watch="memory"/,
    );
    expect(handle.remove()).toBe(true);
    expect(handle.remove()).toBe(false);
    expect(alerts.rules()).toEqual([]);
    await alerts.close();
  });
});

describe('templates', () => {
  it('renders value, labels, rule, severity and reason', () => {
    const render = compileTemplate(
      '{{rule}}/{{ severity }}: {{labels.op}} at {{value}} ({{reason}}){{labels.none}}',
    );
    expect(typeof render).toBe('function');
    const text = (render as Exclude<typeof render, { unknown: string }>)({
      value: 0.1 + 0.2,
      labels: { op: 'GET /' },
      rule: 'Slow',
      severity: 'critical',
      reason: 'above 0.2',
    });
    expect(text).toBe('Slow/critical: GET / at 0.3 (above 0.2)');
  });

  it('reports the first unknown placeholder', () => {
    expect(compileTemplate('{{value}} {{values}}')).toEqual({ unknown: '{{values}}' });
  });
});

describe('fingerprints', () => {
  it('are 16 hex digits, independent of label order, and stable across processes and releases', () => {
    const a = alertFingerprint('HighLatency', {
      alertname: 'HighLatency',
      operation: 'GET /users',
      team: 'api',
    });
    const b = alertFingerprint('HighLatency', {
      team: 'api',
      operation: 'GET /users',
      alertname: 'HighLatency',
    });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    // A fixed value: a change here breaks acknowledgements and claims shared with running instances.
    expect(a).toBe('f9d6dda0db70bcf1');
    expect(alertFingerprint('HighLatency', { operation: 'GET /orders' })).not.toBe(a);
  });
});

describe('options validation', () => {
  let alerts: Alerts | undefined;
  afterEach(async () => {
    await alerts?.close();
    alerts = undefined;
  });

  it('names the option of a bad duration', () => {
    const fieldOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(AlertRuleError);
        return (error as AlertRuleError).context.field;
      }
      return undefined;
    };
    expect(fieldOf(() => new Alerts({ evaluationInterval: 0 }))).toBe('evaluationInterval');
    expect(fieldOf(() => new Alerts({ route: { groupWait: 'soon' as never } }))).toBe(
      'route.groupWait',
    );
    expect(fieldOf(() => new Alerts({ route: { groupBy: 'alertname' as never } }))).toBe(
      'route.groupBy',
    );
    expect(fieldOf(() => new Alerts({ historyLimit: 0 }))).toBe('historyLimit');
    expect(fieldOf(() => new Alerts({ store: 'redis' }))).toBe('redisUrl');
    expect(
      fieldOf(
        () =>
          new Alerts({
            inhibitions: [
              {
                sourceMatchers: [{ name: 'a', op: '=~', value: '(' }],
                targetMatchers: [{ name: 'b', value: '' }],
              },
            ],
          }),
      ),
    ).toBe('inhibitions[0].sourceMatchers[0].value');
    expect(
      fieldOf(
        () =>
          new Alerts({
            channels: [channel('a')],
            policies: [{ name: 'p', steps: [{ after: -1, channels: ['a'] }] }],
          }),
      ),
    ).toBe('policies[0].steps[0].after');
  });

  it('refuses unknown channels in escalation steps and duplicate channel names', () => {
    expect(
      () =>
        new Alerts({
          channels: [channel('slack')],
          policies: [{ name: 'p', steps: [{ after: 0, channels: ['pager'] }] }],
        }),
    ).toThrow(AlertChannelError);
    try {
      new Alerts({
        channels: [channel('slack')],
        policies: [{ name: 'p', steps: [{ after: 0, channels: ['pager'] }] }],
      });
    } catch (error) {
      expect((error as AlertChannelError).context).toMatchObject({
        channel: 'pager',
        field: 'policies[0].steps[0].channels',
      });
    }
    expect(() => new Alerts({ channels: [channel('a'), channel('a')] })).toThrow(AlertChannelError);
    const t = testAlerts({ channels: [channel('a')] });
    alerts = t.alerts;
    expect(() => t.alerts.channel(channel('a'))).toThrow(AlertChannelError);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { functionChannel } from '../../src/alerts/channels/function.js';
import type { AlertNotification } from '../../src/alerts/types.js';
import { ALERT_DELIVERY_TASK } from '../../src/compose/alerts.js';
import { createEnterprise, type Enterprise, type EnterpriseOptions } from '../../src/index.js';

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} };
const open: Enterprise[] = [];

function instance(options: EnterpriseOptions = {}): Enterprise {
  const enterprise = createEnterprise({ logger: silent, env: {}, ...options });
  open.push(enterprise);
  return enterprise;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((enterprise) => enterprise.shutdown()));
});

/** A rule that fires as soon as `level.value` is above 1, notified without waiting. */
function manualRule(level: { value: number }) {
  return {
    name: 'Manual',
    watch: () => level.value,
    condition: { above: 1 },
    summary: 'level is {{value}}',
  };
}

describe('the alerts of an instance', () => {
  it('are built and started by start(), with the built-in rules over the modules it has', async () => {
    const enterprise = instance();
    expect(enterprise.peek('alerts')).toBeUndefined();
    await enterprise.start();
    const alerts = enterprise.peek('alerts');
    expect(alerts).toBeDefined();
    const names = alerts?.rules().map((rule) => rule.name) ?? [];
    expect(names).toEqual(
      expect.arrayContaining(['SlowRequests', 'EventLoopBlocked', 'HealthComponentDown']),
    );
    // The cache and the task module were never built: their figures have no series yet.
    expect(enterprise.peek('cache')).toBeUndefined();
    expect(enterprise.peek('tasks')).toBeUndefined();
  });

  it('are not built by start() with alerts: false', async () => {
    const enterprise = instance({ alerts: false });
    await enterprise.start();
    expect(enterprise.peek('alerts')).toBeUndefined();
  });

  it('can switch the built-in rules off', async () => {
    const enterprise = instance({ alerts: { builtin: false } });
    expect(enterprise.alerts.rules()).toEqual([]);
  });

  it('deliver through the task module when this process uses it', async () => {
    const level = { value: 0 };
    const received: AlertNotification[] = [];
    const enterprise = instance({
      alerts: {
        builtin: false,
        route: { groupWait: 0 },
        channels: [functionChannel('ops', (notification) => void received.push(notification))],
        rules: [manualRule(level)],
      },
    });
    enterprise.tasks;
    await enterprise.start();
    level.value = 5;
    await enterprise.alerts.evaluate();
    await vi.waitFor(() => expect(received.map((n) => n.kind)).toEqual(['firing']));
    const id = `${received[0]?.id}:ops`;
    await vi.waitFor(async () =>
      expect(await enterprise.tasks.get(id)).toMatchObject({
        name: ALERT_DELIVERY_TASK,
        state: 'completed',
      }),
    );
  });

  it('end a delivery that keeps failing in the dead letter queue, visible on the channel', async () => {
    const level = { value: 5 };
    const enterprise = instance({
      alerts: {
        builtin: false,
        route: { groupWait: 0 },
        channels: [
          functionChannel('broken', () => {
            throw new Error('receiver down');
          }),
        ],
        rules: [manualRule(level)],
        delivery: { maxRetries: 1, backoff: { type: 'fixed', delay: '10ms', jitter: 0 } },
      },
    });
    enterprise.tasks;
    await enterprise.start();
    await enterprise.alerts.evaluate();
    await vi.waitFor(async () => {
      const dead = await enterprise.tasks.deadLetters.list();
      expect(dead.map((task) => task.name)).toEqual([ALERT_DELIVERY_TASK]);
    });
    const [status] = enterprise.alerts.channels();
    expect(status).toMatchObject({ name: 'broken' });
    expect(status?.failed).toBeGreaterThanOrEqual(2);
  });

  it('send directly when the process does not use the task module', async () => {
    const level = { value: 5 };
    const received: AlertNotification[] = [];
    const enterprise = instance({
      alerts: {
        builtin: false,
        route: { groupWait: 0 },
        channels: [functionChannel('ops', (notification) => void received.push(notification))],
        rules: [manualRule(level)],
      },
    });
    await enterprise.start();
    await enterprise.alerts.evaluate();
    await vi.waitFor(() => expect(received).toHaveLength(1));
    expect(enterprise.peek('tasks')).toBeUndefined();
  });

  it('expose their metrics with the instance prefix, and recommendations', async () => {
    const enterprise = instance({
      performance: { prometheus: { prefix: 'shop_' } },
      alerts: { builtin: false, rules: [manualRule({ value: 5 })] },
    });
    await enterprise.start();
    await enterprise.alerts.evaluate();
    const text = enterprise.performance.toPrometheus();
    expect(text).toContain('shop_alerts{');
    expect(text).not.toContain('enterprise_alerts');
    expect(Array.isArray(await enterprise.alerts.recommendations())).toBe(true);
  });
});

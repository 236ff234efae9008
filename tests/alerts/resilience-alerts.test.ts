// The alerts of an instance watch the resilience module: a circuit breaker that opens raises
// CircuitBreakerOpen (resolved when it closes, raised even for an opening shorter than an
// evaluation), and health components that turn degraded or down raise HealthComponentDegraded
// and HealthComponentDown, resolved when they recover. Delivered through a function channel.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BUILTIN_RULES, type BuiltinRulesOptions } from '../../src/alerts/builtin-rules.js';
import { functionChannel } from '../../src/alerts/channels/function.js';
import type { AlertNotification } from '../../src/alerts/types.js';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import { circuitBreaker, defaultBreakerRegistry, health } from '../../src/resilience/index.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Only the given built-in rules, tuned as given. */
function only(rules: BuiltinRulesOptions): BuiltinRulesOptions {
  const off = Object.fromEntries(Object.keys(BUILTIN_RULES).map((key) => [key, false]));
  return { ...off, ...rules };
}

async function instance(builtin: BuiltinRulesOptions) {
  const received: AlertNotification[] = [];
  const enterprise: Enterprise = createEnterprise({
    logLevel: 'silent',
    env: {},
    performance: { systemMetrics: false },
    alerts: {
      builtin,
      evaluationInterval: '100ms',
      route: {
        groupWait: 0,
        groupInterval: '100ms',
        groupBy: ['alertname', 'breaker', 'component'],
      },
      channels: [functionChannel('ops', (notification) => void received.push(notification))],
    },
  });
  cleanups.push(() => enterprise.shutdown());
  await enterprise.start();
  return { enterprise, received };
}

const summary = (notifications: AlertNotification[]) =>
  notifications.map((n) => `${n.kind} ${n.alerts.map((a) => a.labels.alertname).join(',')}`);

function breaker(name: string) {
  const created = circuitBreaker(name, { consecutiveFailures: 1, halfOpenAfterMs: 60_000 });
  cleanups.push(() => {
    defaultBreakerRegistry().remove(name);
    created.dispose();
  });
  return created;
}

describe('CircuitBreakerOpen', () => {
  it('fires when a breaker opens and resolves when it closes', async () => {
    const name = `payments-${randomUUID().slice(0, 8)}`;
    const payments = breaker(name);
    const { enterprise, received } = await instance(only({ circuitBreakerOpen: true }));
    await sleep(300);
    expect(enterprise.alerts.list({ state: 'firing' })).toEqual([]);

    await expect(payments.execute(() => Promise.reject(new Error('refused')))).rejects.toThrow();
    expect(payments.state).toBe('open');
    await vi.waitFor(() => expect(enterprise.alerts.list({ state: 'firing' })).toHaveLength(1));
    const [alert] = enterprise.alerts.list({ state: 'firing' });
    expect(alert?.labels).toMatchObject({ alertname: 'CircuitBreakerOpen', breaker: name });
    expect(alert?.annotations.summary).toContain(name);
    await vi.waitFor(() => expect(summary(received)).toEqual(['firing CircuitBreakerOpen']));

    payments.close();
    await vi.waitFor(() => expect(enterprise.alerts.list({ state: 'firing' })).toEqual([]));
    await vi.waitFor(() =>
      expect(summary(received)).toEqual([
        'firing CircuitBreakerOpen',
        'resolved CircuitBreakerOpen',
      ]),
    );
  });

  it('fires once for an opening shorter than an evaluation', async () => {
    const payments = breaker(`flaky-${randomUUID().slice(0, 8)}`);
    const { received } = await instance(only({ circuitBreakerOpen: true }));
    await sleep(300);
    payments.open();
    payments.close();
    await vi.waitFor(() =>
      expect(summary(received)).toEqual([
        'firing CircuitBreakerOpen',
        'resolved CircuitBreakerOpen',
      ]),
    );
  });

  it('is left out with circuitBreakerOpen: false', async () => {
    const { enterprise } = await instance({ circuitBreakerOpen: false });
    expect(enterprise.alerts.rules().map((rule) => rule.name)).not.toContain('CircuitBreakerOpen');
  });
});

describe('health transitions', () => {
  it('raise HealthComponentDegraded and HealthComponentDown, resolved on recovery', async () => {
    const name = `ledger-${randomUUID().slice(0, 8)}`;
    let status: 'ok' | 'degraded' | 'down' = 'ok';
    cleanups.push(health.register(name, () => status));
    const { enterprise, received } = await instance(
      only({ healthDown: { for: 0 }, healthDegraded: { for: 0 } }),
    );
    const firing = () =>
      enterprise.alerts
        .list({ state: 'firing' })
        .filter((alert) => alert.labels.component === name)
        .map((alert) => alert.labels.alertname);
    // The health report is reused for a second: evaluate until the change shows.
    const until = async (expected: string[]) =>
      vi.waitFor(
        async () => {
          expect(firing()).toEqual(expected);
        },
        { timeout: 5_000, interval: 200 },
      );

    await until([]);
    status = 'degraded';
    await until(['HealthComponentDegraded']);
    status = 'down';
    await until(['HealthComponentDown']);
    status = 'ok';
    await until([]);
    await vi.waitFor(() =>
      expect(summary(received)).toEqual([
        'firing HealthComponentDegraded',
        'resolved HealthComponentDegraded',
        'firing HealthComponentDown',
        'resolved HealthComponentDown',
      ]),
    );
  });

  it('leave breakers to CircuitBreakerOpen: an open breaker is not a degraded component alert', async () => {
    const payments = breaker(`orders-${randomUUID().slice(0, 8)}`);
    const { enterprise } = await instance(
      only({ healthDegraded: { for: 0 }, circuitBreakerOpen: true }),
    );
    payments.open();
    await vi.waitFor(
      async () => {
        expect(enterprise.alerts.list({ state: 'firing' }).map((a) => a.labels.alertname)).toEqual([
          'CircuitBreakerOpen',
        ]);
      },
      { timeout: 5_000, interval: 200 },
    );
    await sleep(1_500);
    expect(enterprise.alerts.list({ state: 'firing' }).map((a) => a.labels.alertname)).toEqual([
      'CircuitBreakerOpen',
    ]);
  });
});

// Delivery of an instance's alerts through the task module to a real webhook receiver: a refused
// delivery is retried under the same delivery id until the receiver takes it, one that is always
// refused ends in the dead letter queue, and evaluation never waits for either.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { functionChannel } from '../../src/alerts/channels/function.js';
import { verifyWebhookSignature, webhookChannel } from '../../src/alerts/channels/index.js';
import type { AlertNotification } from '../../src/alerts/types.js';
import { ALERT_DELIVERY_TASK } from '../../src/compose/alerts.js';
import { createEnterprise, type Enterprise, type EnterpriseOptions } from '../../src/index.js';
import { type HttpReceiver, type Responder, startHttpReceiver } from './channels/receivers.js';

const SECRET = 'whsec_delivery_31c9';
const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} };
const open: { enterprise: Enterprise; receiver: HttpReceiver }[] = [];

afterEach(async () => {
  for (const { enterprise, receiver } of open.splice(0)) {
    await enterprise.shutdown();
    await receiver.close();
  }
});

/** Answers each request with the next status of `statuses`, the last one from then on. */
function statuses(...list: number[]): Responder {
  let next = 0;
  return (_request, response) => {
    const status = list[Math.min(next++, list.length - 1)]!;
    response.writeHead(status).end();
  };
}

/** A started instance (memory task backend) whose alerts go to a signed webhook at `receiver`. */
async function instance(
  receiver: HttpReceiver,
  alerts: NonNullable<Exclude<EnterpriseOptions['alerts'], false>>,
): Promise<Enterprise> {
  const enterprise = createEnterprise({
    logger: silent,
    env: {},
    performance: { systemMetrics: false },
    tasks: { backend: 'memory' },
    alerts: {
      builtin: false,
      evaluationInterval: '50ms',
      route: { groupWait: 0 },
      ...alerts,
      channels: [
        webhookChannel({ name: 'hook', url: receiver.url, secret: SECRET }),
        ...(alerts.channels ?? []),
      ],
    },
  });
  open.push({ enterprise, receiver });
  // Using the task module makes it the delivery path.
  enterprise.tasks;
  await enterprise.start();
  return enterprise;
}

const diskFull = { name: 'DiskFull', watch: () => 95, condition: { above: 90 } };

describe('webhook delivery through the task module', () => {
  it('retries a refused delivery under the same delivery id until the receiver takes it', async () => {
    const receiver = await startHttpReceiver(statuses(500, 500, 200));
    const enterprise = await instance(receiver, {
      rules: [diskFull],
      delivery: { maxRetries: 3, backoff: { type: 'fixed', delay: '20ms', jitter: 0 } },
    });

    await vi.waitFor(() => expect(receiver.requests).toHaveLength(3), { timeout: 5_000 });
    const ids = receiver.requests.map((r) => r.headers['x-enterprise-delivery']);
    const notification = JSON.parse(receiver.requests[0]!.body) as AlertNotification;
    expect(ids).toEqual([notification.id, notification.id, notification.id]);
    for (const { headers, body } of receiver.requests) {
      const header = headers['x-enterprise-signature'] as string;
      expect(verifyWebhookSignature({ secret: SECRET, header, body })).toBe(true);
      expect(JSON.parse(body)).toMatchObject({ id: notification.id, kind: 'firing', step: 0 });
    }

    await vi.waitFor(async () =>
      expect(await enterprise.tasks.get(`${notification.id}:hook`)).toMatchObject({
        name: ALERT_DELIVERY_TASK,
        state: 'completed',
        attempts: 3,
      }),
    );
    expect(await enterprise.tasks.deadLetters.list()).toEqual([]);
    expect(enterprise.alerts.channels().find((c) => c.name === 'hook')).toMatchObject({
      sent: 1,
      failed: 2,
    });
    const [alert] = enterprise.alerts.list({ state: 'firing' });
    await vi.waitFor(() =>
      expect(enterprise.alerts.get(alert!.fingerprint)?.deliveries?.hook).toMatchObject({
        notification: notification.id,
        outcome: 'success',
      }),
    );
    // Delivered: nothing more reaches the receiver.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(receiver.requests).toHaveLength(3);
  });

  it('dead-letters a delivery the receiver always refuses, while evaluation and other deliveries go on', async () => {
    // The first attempt hangs until released, then every answer is a 500.
    const held: ServerResponse[] = [];
    let release = false;
    const receiver = await startHttpReceiver((_request, response) => {
      if (release) response.writeHead(500).end();
      else held.push(response);
    });
    const queue = { depth: 0 };
    const ops: AlertNotification[] = [];
    const enterprise = await instance(receiver, {
      channels: [functionChannel('ops', (n) => void ops.push(n))],
      rules: [diskFull, { name: 'QueueStuck', watch: () => queue.depth, condition: { above: 10 } }],
      policies: [
        {
          name: 'disk',
          matchers: [{ name: 'alertname', value: 'DiskFull' }],
          steps: [{ after: 0, channels: ['hook'] }],
        },
        {
          name: 'queues',
          matchers: [{ name: 'alertname', value: 'QueueStuck' }],
          steps: [{ after: 0, channels: ['ops'] }],
        },
      ],
      delivery: { maxRetries: 2, backoff: { type: 'fixed', delay: '20ms', jitter: 0 } },
    });

    await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 5_000 });
    // The webhook has not answered: a second rule still transitions and is delivered elsewhere.
    queue.depth = 50;
    await vi.waitFor(() => {
      expect(enterprise.alerts.list({ state: 'firing' }).map((a) => a.rule)).toContain(
        'QueueStuck',
      );
      expect(ops.map((n) => n.kind)).toEqual(['firing']);
    });
    const transitions = (await enterprise.alerts.history(10)).map(
      (t) => `${t.rule}:${t.from}>${t.to}`,
    );
    expect(transitions).toContain('QueueStuck:inactive>firing');
    expect(receiver.requests).toHaveLength(1);
    expect(await enterprise.tasks.deadLetters.list()).toEqual([]);

    release = true;
    held.splice(0).forEach((response) => void response.writeHead(500).end());
    await vi.waitFor(
      async () => {
        const dead = await enterprise.tasks.deadLetters.list();
        expect(dead.map((task) => task.name)).toEqual([ALERT_DELIVERY_TASK]);
        expect(dead[0]).toMatchObject({ state: 'dead', attempts: 3, payload: { channel: 'hook' } });
      },
      { timeout: 5_000 },
    );
    // One notification, tried three times (one attempt and two retries) under one delivery id.
    expect(receiver.requests).toHaveLength(3);
    expect(new Set(receiver.requests.map((r) => r.headers['x-enterprise-delivery'])).size).toBe(1);
    const hook = enterprise.alerts.channels().find((c) => c.name === 'hook');
    expect(hook).toMatchObject({ sent: 0, failed: 3 });
    expect(hook?.lastError).toMatch(/500/);
    expect(enterprise.alerts.channels().find((c) => c.name === 'ops')).toMatchObject({
      sent: 1,
      failed: 0,
    });
    expect(
      enterprise.alerts.rules().find((rule) => rule.name === 'DiskFull')?.deliveryFailures,
    ).toBeGreaterThan(0);

    // Evaluation goes on after the dead letter: the second rule resolves.
    queue.depth = 0;
    await vi.waitFor(async () => {
      const latest = (await enterprise.alerts.history(10)).map(
        (t) => `${t.rule}:${t.from}>${t.to}`,
      );
      expect(latest).toContain('QueueStuck:firing>resolved');
    });
  });
});

// Two processes of one deployment share their alert state in Redis and evaluate the same firing
// rule: each notification (escalation step, repeat slot) reaches the receiver exactly once, signed,
// and an acknowledgement taken in one process stops the repeats of both.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../src/alerts/channels/index.js';
import type { AlertNotification } from '../../src/alerts/types.js';
import { createClient, quitClient, whenReady } from '../../src/redis/client.js';
import { type LineChild, startLineChild } from '../support/line-child.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';

const SECRET = 'whsec_processes_5e1f';
const FIXTURE = fileURLToPath(new URL('./fixtures/alerts-process.ts', import.meta.url));
/** The fixture's escalation: step 0 (chat) at once, step 1 (pager) after 1.5 s, repeated every 1 s. */
const STEPS = [
  { channel: 'chat', afterMs: 0 },
  { channel: 'pager', afterMs: 1_500 },
];
const REPEAT_MS = 1_000;
const EVALUATION_MS = 200;

interface Delivery {
  channel: string;
  deliveryId: string;
  signed: boolean;
  notification: AlertNotification;
  receivedAt: number;
}

/** A local HTTP receiver that verifies each signature and keeps every delivery. */
async function startReceiver(): Promise<{ url: string; deliveries: Delivery[]; server: Server }> {
  const deliveries: Delivery[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const signed = verifyWebhookSignature({
        secret: SECRET,
        header: request.headers['x-enterprise-signature'] as string | undefined,
        body,
      });
      deliveries.push({
        channel: (request.url ?? '').replace(/^\/hooks\//, ''),
        deliveryId: String(request.headers['x-enterprise-delivery']),
        signed,
        notification: JSON.parse(body.toString('utf8')),
        receivedAt: Date.now(),
      });
      response.writeHead(signed ? 204 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks`, deliveries, server };
}

/** Polls `check` every 20 ms until it is true; fails after `timeoutMs`. */
async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

type Counter = { channel: string; kind: string; outcome: string; value: number };

describe.runIf(requires(redis))('two processes of one deployment on Redis', () => {
  let admin: Redis;
  beforeAll(async () => {
    admin = createClient(REDIS_URL, 1_000, undefined);
    await whenReady(admin, 2_000);
  });
  afterAll(async () => {
    await quitClient(admin);
  });

  it('deliver each step and repeat once, signed, and stop repeating once one acknowledges', async () => {
    const prefix = `test:alerts-processes:${randomUUID()}`;
    const receiver = await startReceiver();
    const env = { REDIS_URL, PREFIX: prefix, HOOK_URL: receiver.url, SECRET };
    // One reads REDIS_URL from its environment, the other is given alerts.redisUrl.
    const children = [
      startLineChild(FIXTURE, { ...env, REDIS_FROM: 'env' }, { name: 'a', timeoutMs: 15_000 }),
      startLineChild(FIXTURE, { ...env, REDIS_FROM: 'option' }, { name: 'b', timeoutMs: 15_000 }),
    ];
    const [a, b] = children as [LineChild, LineChild];
    try {
      await Promise.all(children.map((child) => child.line((l) => l === 'ready')));
      for (const child of children) child.send('go');
      await Promise.all(children.map((child) => child.line((l) => l === 'started')));

      const { deliveries } = receiver;
      const escalating = () => deliveries.filter((d) => d.notification.kind !== 'acknowledged');
      const count = (channel: string) => escalating().filter((d) => d.channel === channel).length;
      // Step 0 notified and repeated twice, step 1 notified and repeated once.
      await until(() => count('chat') >= 3 && count('pager') >= 2, 'both steps and repeats');

      a.send('ack');
      const acked = await a.line((l) => l.startsWith('acked ') || l.startsWith('ack-failed'));
      expect(acked).toMatch(/^acked /);
      const [, fingerprint, ackedAtIso] = acked.split(' ') as [string, string, string];
      const ackedAt = Date.parse(ackedAtIso);
      await until(
        () => deliveries.filter((d) => d.notification.kind === 'acknowledged').length >= 2,
        'the acknowledgement told to both channels',
      );
      // b reads the acknowledgement at its next evaluation; from then on two repeat intervals pass
      // quietly.
      await until(async () => {
        b.send('acknowledged?');
        const answer = await b.line((l) => l.startsWith('acknowledged '), 1_000);
        return answer === 'acknowledged true';
      }, 'b to see the acknowledgement');
      const settled = escalating().length;
      await sleep(2 * REPEAT_MS + EVALUATION_MS);
      expect(escalating()).toHaveLength(settled);

      // Every request was signed, the signature verifies, and carries its notification's id.
      expect(deliveries.every((d) => d.signed)).toBe(true);
      expect(deliveries.every((d) => d.deliveryId === d.notification.id)).toBe(true);
      expect(verifyWebhookSignature({ secret: 'another', header: 'x', body: '' })).toBe(false);

      // Exactly one delivery per notification: no id reached a channel twice.
      const keys = deliveries.map((d) => `${d.channel}:${d.notification.id}`);
      expect(new Set(keys).size).toBe(keys.length);

      // Each step's deliveries fill its repeat slots, counted from the group's shared episode
      // start: slot 0 (firing), 1, 2... (repeat), each once, none skipped.
      const [episodeKey] = await admin.keys(`{${prefix}}:episode:g:*`);
      expect(episodeKey).toBeDefined();
      const episode = Number(await admin.get(episodeKey!));
      STEPS.forEach(({ channel, afterMs }, step) => {
        const due = episode + afterMs;
        const mine = escalating().filter((d) => d.channel === channel);
        expect(mine.every((d) => d.notification.step === step)).toBe(true);
        const slots = mine
          .map((d) => ({
            kind: d.notification.kind,
            slot: Math.floor((Date.parse(d.notification.createdAt) - due) / REPEAT_MS),
          }))
          .sort((x, y) => x.slot - y.slot);
        expect(slots.map((s) => s.slot)).toEqual(slots.map((_, i) => i));
        expect(slots.map((s) => s.kind)).toEqual(
          slots.map((_, i) => (i === 0 ? 'firing' : 'repeat')),
        );
        // None was made after the acknowledgement (beyond an evaluation under way when it came).
        for (const d of mine) {
          expect(Date.parse(d.notification.createdAt)).toBeLessThan(ackedAt + REPEAT_MS / 2);
        }
      });

      // The acknowledgement: told once to each channel that was notified, by the process that took it.
      const acks = deliveries.filter((d) => d.notification.kind === 'acknowledged');
      expect(acks.map((d) => d.channel).sort()).toEqual(['chat', 'pager']);
      expect(new Set(acks.map((d) => d.notification.id)).size).toBe(1);
      expect(acks[0]!.notification.alerts[0]).toMatchObject({
        fingerprint,
        acknowledged: { by: 'oncall-bot' },
      });

      // Both processes planned (nearly) every notification, and only one of them sent each: the
      // other counted it as deduplicated.
      const stats = await Promise.all(
        children.map(async (child) => {
          child.send('stats');
          const line = await child.line((l) => l.startsWith('stats '));
          return JSON.parse(line.slice('stats '.length)) as Counter[];
        }),
      );
      const sum = (counters: Counter[], channel: string, kind: string, outcome: string) =>
        counters
          .filter((c) => c.channel === channel && c.kind === kind && c.outcome === outcome)
          .reduce((total, c) => total + c.value, 0);
      for (const { channel } of STEPS) {
        for (const kind of ['firing', 'repeat']) {
          const received = escalating().filter(
            (d) => d.channel === channel && d.notification.kind === kind,
          ).length;
          const sent = stats.map((counters) => sum(counters, channel, kind, 'success'));
          expect(sent[0]! + sent[1]!).toBe(received);
          for (const counters of stats) {
            const planned =
              sum(counters, channel, kind, 'success') +
              sum(counters, channel, kind, 'deduplicated');
            // The process that had not yet seen the acknowledgement may have claimed one more.
            expect(planned).toBeGreaterThanOrEqual(received - 1);
          }
        }
      }
      expect(stats.map((counters) => sum(counters, 'chat', 'acknowledged', 'success'))).toEqual([
        1, 0,
      ]);
    } finally {
      await Promise.all(children.map((child) => child.stop()));
      await new Promise<void>((resolve) => {
        receiver.server.closeAllConnections();
        receiver.server.close(() => resolve());
      });
      const keys = await admin.keys(`{${prefix}}:*`);
      if (keys.length > 0) await admin.del(...keys);
    }
    for (const child of children) {
      expect(child.process.exitCode !== null || child.process.signalCode !== null).toBe(true);
    }
  }, 40_000);
});

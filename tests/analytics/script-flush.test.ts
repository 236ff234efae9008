// Redis forgets its Lua scripts on a restart, a failover or SCRIPT FLUSH: every batch write then
// goes again by EVAL. Two instances track events into a private Redis flushed every few
// milliseconds, their pipelines writing small batches all along: after flush(), every event is
// counted once, every funnel step holds every user once, and no write failed or was retried.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Analytics, hourOf, RedisAnalyticsStore } from '../../src/analytics/index.js';
import type { Logger } from '../../src/core/logger.js';
import { redisServer, usePrivateRedis } from '../support/private-redis.js';
import { requires } from '../support/requirements.js';
import { flushScripts, scriptFallbacks } from '../support/script-flusher.js';

const KEY = 'script-flush-test-hash-key-0123456789';
const ROUNDS = 40;
const USERS = 30;
const ANONYMOUS = 5;
/** The rounds at which every user of an instance reaches the next funnel step. */
const STEPS = new Map([
  [5, 'e0'],
  [18, 'e1'],
  [31, 'e2'],
]);

const silent: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silent,
};

describe.runIf(requires(redisServer))('event analytics while Redis forgets its scripts', () => {
  const redis = usePrivateRedis();

  it('counts every tracked event once, and every funnel step once per user', async () => {
    const prefix = 'flush:analytics';
    const instances = [0, 1].map(
      () =>
        new Analytics({
          redisUrl: redis.url,
          prefix,
          hashKey: KEY,
          commandTimeoutMs: 2_000,
          flushInterval: '5ms',
          batchSize: 40,
          logger: silent,
          funnels: { steps: { steps: ['e0', 'e1', 'e2'], within: '1h' } },
        }),
    );
    const reader = new RedisAnalyticsStore({ url: redis.url, prefix });
    const tracked = new Map<string, number>();
    const track = (analytics: Analytics, event: string, userId?: string) => {
      expect(analytics.track(event, userId === undefined ? undefined : { userId })).toBe(true);
      tracked.set(event, (tracked.get(event) ?? 0) + 1);
    };
    const before = await scriptFallbacks(redis.admin);
    const flusher = flushScripts(redis.admin);
    try {
      try {
        for (let round = 0; round < ROUNDS; round++) {
          instances.forEach((analytics, i) => {
            // Each user stays on one instance: its funnel steps reach Redis in the order taken.
            for (let u = 0; u < USERS; u++) track(analytics, 'view', `user-${i}-${u}`);
            for (let a = 0; a < ANONYMOUS; a++) track(analytics, 'click');
            const step = STEPS.get(round);
            if (step !== undefined) {
              for (let u = 0; u < USERS; u++) track(analytics, step, `user-${i}-${u}`);
            }
          });
          await sleep(3);
        }
        await Promise.all(instances.map((analytics) => analytics.flush()));
      } finally {
        await flusher.stop();
      }
      const after = await scriptFallbacks(redis.admin);
      expect(flusher.flushes).toBeGreaterThan(20);
      // The fallback really ran: batch writes were answered NOSCRIPT and went again by EVAL.
      expect(after.noscript - before.noscript).toBeGreaterThan(20);
      expect(after.evals - before.evals).toBeGreaterThan(20);

      const total = ROUNDS * 2 * (USERS + ANONYMOUS) + STEPS.size * 2 * USERS;
      expect([...tracked.values()].reduce((a, b) => a + b, 0)).toBe(total);
      for (const analytics of instances) {
        const stats = analytics.stats();
        expect(stats).toMatchObject({ buffered: 0, storeErrors: 0, outages: 0, storeDown: false });
        expect(stats.written).toBe(stats.tracked);
        expect(Object.values(stats.dropped).every((n) => n === 0)).toBe(true);
      }

      const hour = hourOf(Date.now());
      const counted = new Map<string, number>();
      for (const row of await reader.eventCounts(hour - 2, hour + 1)) {
        for (const [event, n] of row.counts) counted.set(event, (counted.get(event) ?? 0) + n);
      }
      expect(counted).toEqual(tracked);

      const funnel = await instances[0]!.funnel('steps');
      expect(funnel.steps.map((step) => [step.event, step.users])).toEqual([
        ['e0', 2 * USERS],
        ['e1', 2 * USERS],
        ['e2', 2 * USERS],
      ]);
    } finally {
      for (const analytics of instances) await analytics.close();
      await reader.close();
    }
  }, 20_000);
});

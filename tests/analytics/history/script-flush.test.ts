// Redis forgets its Lua scripts on a restart, a failover or SCRIPT FLUSH: every series write then
// goes again by EVAL. Two stores (two processes of a deployment) write the same series for the
// same minutes into a private Redis flushed every few milliseconds, each rollup sent twice (a
// recorder's retry): every minute and hour then holds exactly the two instances' samples.
import { describe, expect, it } from 'vitest';
import { RedisHistoryStore } from '../../../src/analytics/history/index.js';
import type { MinuteRollup } from '../../../src/analytics/history/types.js';
import { redisServer, usePrivateRedis } from '../../support/private-redis.js';
import { requires } from '../../support/requirements.js';
import { flushScripts, scriptFallbacks } from '../../support/script-flusher.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const MINUTES = 120;
const METRICS = ['system.cpu.percent', 'system.memory.rss', 'tasks.queue_depth'];

/** Instance `i`'s rollup of minute `at`: each figure is `i + 1` at every sample. */
function rollup(i: number, at: number): MinuteRollup {
  return {
    id: `instance-${i}:${at}`,
    at,
    operations: [],
    metrics: METRICS.map((name) => ({
      name,
      labels: { region: 'eu' },
      samples: 6,
      sum: 6 * (i + 1),
      min: i + 1,
      max: i + 1,
    })),
  };
}

describe.runIf(requires(redisServer))(
  'the Redis history store while Redis forgets its scripts',
  () => {
    const redis = usePrivateRedis();

    it('adds every instance once per minute and hour, a rollup sent twice included', async () => {
      const prefix = 'flush:history';
      const stores = [0, 1].map(
        () => new RedisHistoryStore({ url: redis.url, prefix, commandTimeoutMs: 2_000 }),
      );
      const end = Math.floor(Date.now() / HOUR) * HOUR;
      const start = end - MINUTES * MINUTE;
      let writes = 0;
      try {
        const before = await scriptFallbacks(redis.admin);
        const flusher = flushScripts(redis.admin);
        try {
          for (let at = start; at < end; at += 4 * MINUTE) {
            await Promise.all(
              stores.flatMap((store, i) =>
                [0, 1, 2, 3].flatMap((k) => {
                  const minute = rollup(i, at + k * MINUTE);
                  // Sent twice, as a recorder does after a lost reply: counted once.
                  writes += 2;
                  return [store.write(minute), store.write(minute)];
                }),
              ),
            );
          }
        } finally {
          await flusher.stop();
        }
        const after = await scriptFallbacks(redis.admin);
        expect(flusher.flushes).toBeGreaterThan(20);
        // The fallback really ran: series writes were answered NOSCRIPT and went again by EVAL.
        expect(after.noscript - before.noscript).toBeGreaterThan(20);
        expect(writes).toBe(2 * 2 * MINUTES);

        for (const metric of METRICS) {
          const minutes = await stores[0]!.queryMetric({
            metric,
            labels: { region: 'eu' },
            from: start,
            to: end,
            step: '1m',
          });
          expect(minutes.points).toHaveLength(MINUTES);
          for (const point of minutes.points) {
            // Both instances, once each: 6 samples of 1 and 6 of 2.
            expect(point, `${metric} ${new Date(point.at).toISOString()}`).toMatchObject({
              samples: 12,
              sum: 18,
              min: 1,
              max: 2,
            });
          }
          const hours = await stores[1]!.queryMetric({
            metric,
            labels: { region: 'eu' },
            from: start,
            to: end,
            step: '1h',
          });
          expect(hours.points.map((p) => [p.samples, p.sum])).toEqual([
            [12 * 60, 18 * 60],
            [12 * 60, 18 * 60],
          ]);
        }
      } finally {
        for (const store of stores) await store.close();
      }
    }, 60_000);
  },
);

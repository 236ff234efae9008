// Redis down: the recorder keeps closing minutes, holds them in memory, never throws nor leaves a
// rejection unhandled, and writes them in order once Redis answers again (through a loopback
// proxy that is closed and started again on the same port).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryRecorder, RedisHistoryStore } from '../../../src/analytics/history/index.js';
import { eventually } from '../../../src/testing/index.js';
import { collectUnhandledRejections, startRedisProxy } from '../../support/redis-outage.js';
import { REDIS_URL, redis, requires } from '../../support/requirements.js';
import type { TcpProxy } from '../../support/tcp-proxy.js';
import { historyClock, monitorOn, silent } from './helpers.js';

describe.runIf(requires(redis))('history recorder while Redis is down', () => {
  let admin: Redis;
  const unhandled = collectUnhandledRejections();
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await admin.quit();
  });

  it('keeps the last minutes in memory and catches up when Redis is back', async () => {
    let proxy: TcpProxy = await startRedisProxy();
    const port = proxy.port;
    const prefix = `test:history:${randomUUID()}`;
    const clock = historyClock(20);
    const monitor = monitorOn(clock);
    const store = new RedisHistoryStore({
      url: `redis://127.0.0.1:${port}`,
      prefix,
      commandTimeoutMs: 300,
      clock,
    });
    const recorder = new HistoryRecorder({
      store,
      operations: monitor,
      clock,
      logger: silent,
      writeTimeoutMs: 1_000,
    });
    const minute = async (n: number, calls: number) => {
      clock.at(n, 5);
      for (let i = 0; i < calls; i++) monitor.record('checkout', 10 + i, { error: i === 0 });
      clock.at(n + 1, 0.01);
      await recorder.tick();
    };
    try {
      await minute(0, 2);
      expect(recorder.status()).toMatchObject({ pendingMinutes: 0, storeDown: false });

      await proxy.close();
      await minute(1, 3);
      await minute(2, 4);
      await minute(3, 5);
      expect(recorder.status()).toMatchObject({ pendingMinutes: 3, storeDown: true });

      proxy = await startRedisProxy(port);
      // The client reconnects on its own backoff; every tick tries again meanwhile.
      await eventually(
        async () => {
          clock.advance(1_000);
          await recorder.tick();
          return recorder.status().pendingMinutes === 0;
        },
        'the kept minutes to be written',
        10_000,
      );
      expect(recorder.status()).toMatchObject({ storeDown: false, droppedMinutes: 0 });
      const series = await store.query({
        operation: 'checkout',
        from: clock.start,
        to: clock.start + 4 * 60_000,
        step: 60,
      });
      expect(series.points.map((p) => [p.count, p.errors])).toEqual([
        [2, 1],
        [3, 1],
        [4, 1],
        [5, 1],
      ]);
      expect(unhandled).toEqual([]);
    } finally {
      await recorder.stop();
      await store.close();
      await proxy.close();
      const keys = await admin.keys(`${prefix}:*`);
      if (keys.length > 0) await admin.del(...keys);
    }
  }, 30_000);
});

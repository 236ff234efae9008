// Two processes of one deployment share a limit in Redis: 10,000 calls on one key, half from each,
// admit the limit once (within 1%), not once per process; and over several windows, the rate.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLineChild } from '../../support/line-child.js';
import { REDIS_URL, redis, requires } from '../../support/requirements.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/limiter-process.ts', import.meta.url));

interface Result {
  admitted: number;
  refused: number;
  store: number;
  other: number;
  storeErrors: number;
  startedAt: number;
  endedAt: number;
}

describe.runIf(requires(redis))('two processes sharing one limit in Redis', () => {
  let admin: Redis;
  const prefixes: string[] = [];
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    for (const prefix of prefixes) {
      const keys = await admin.keys(`${prefix}:*`);
      if (keys.length > 0) await admin.del(...keys);
    }
    await admin.quit();
  });

  for (const algorithm of ['gcra', 'sliding-window'] as const) {
    it(`${algorithm}: 10,000 calls from two processes admit the limit once, within 1%`, async () => {
      const prefix = `test:rate-limit-processes:${randomUUID()}`;
      prefixes.push(prefix);
      const limit = 2_000;
      const env = {
        REDIS_URL,
        PREFIX: prefix,
        KEY: 'shared',
        LIMIT: String(limit),
        WINDOW: '1h',
        ALGORITHM: algorithm,
        REQUESTS: '5000',
        CONCURRENCY: '16',
      };
      const children = [startLineChild(FIXTURE, env), startLineChild(FIXTURE, env)];
      try {
        await Promise.all(children.map((c) => c.line('ready')));
        for (const c of children) c.send('go');
        const results = (await Promise.all(children.map((c) => c.line('result ')))).map(
          (line) => JSON.parse(line.slice('result '.length)) as Result,
        );
        const admitted = results.reduce((sum, r) => sum + r.admitted, 0);
        const decided = results.reduce((sum, r) => sum + r.admitted + r.refused, 0);
        expect(decided).toBe(10_000);
        expect(results.map((r) => [r.other, r.storeErrors])).toEqual([
          [0, 0],
          [0, 0],
        ]);
        // Both took part: each admitted some of the limit.
        for (const r of results) expect(r.admitted).toBeGreaterThan(0);
        // GCRA gives back limit / window while the run lasts: 2,000 an hour is one per 1.8 s.
        const spanMs =
          Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt));
        const drained = algorithm === 'gcra' ? Math.floor((spanMs * limit) / 3_600_000) + 1 : 0;
        expect(admitted).toBeGreaterThanOrEqual(limit);
        expect(admitted).toBeLessThanOrEqual(limit + drained);
        expect(Math.abs(admitted - limit) / limit).toBeLessThanOrEqual(0.01);
      } finally {
        for (const c of children) c.kill();
      }
    }, 60_000);
  }

  it('gcra over several windows: 10,000 paced calls from two processes admit limit + span × rate, within 1%', async () => {
    const prefix = `test:rate-limit-processes:${randomUUID()}`;
    prefixes.push(prefix);
    const limit = 300;
    const windowMs = 1_000;
    const env = {
      REDIS_URL,
      PREFIX: prefix,
      KEY: 'shared',
      LIMIT: String(limit),
      WINDOW: '1s',
      ALGORITHM: 'gcra',
      REQUESTS: '5000',
      CONCURRENCY: '16',
      // About 1,600 calls a second from each: always more than the 300 a second the limit passes.
      PACE_MS: '10',
    };
    const children = [startLineChild(FIXTURE, env), startLineChild(FIXTURE, env)];
    try {
      await Promise.all(children.map((c) => c.line('ready')));
      for (const c of children) c.send('go');
      const results = (await Promise.all(children.map((c) => c.line('result ')))).map(
        (line) => JSON.parse(line.slice('result '.length)) as Result,
      );
      const admitted = results.reduce((sum, r) => sum + r.admitted, 0);
      expect(results.reduce((sum, r) => sum + r.admitted + r.refused, 0)).toBe(10_000);
      expect(results.map((r) => r.other)).toEqual([0, 0]);
      const spanMs =
        Math.max(...results.map((r) => r.endedAt)) - Math.min(...results.map((r) => r.startedAt));
      expect(spanMs).toBeGreaterThan(2 * windowMs);
      // A full bucket at the start, then the rate for as long as the calls kept coming.
      const expected = limit + (spanMs * limit) / windowMs;
      expect(admitted).toBeLessThanOrEqual(expected + 1);
      expect(Math.abs(admitted - expected) / expected).toBeLessThanOrEqual(0.01);
    } finally {
      for (const c of children) c.kill();
    }
  }, 60_000);
});

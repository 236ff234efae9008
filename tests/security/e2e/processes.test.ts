// Two processes of one deployment — a Fastify server and an Express server, each with the
// middleware's `security` option and the same route limit, their rate limits in one Redis — take
// 10,000 requests between them: the limit is admitted once across both, within 1%.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLineChild } from '../../support/line-child.js';
import { REDIS_URL, redis, requires } from '../../support/requirements.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/server-process.ts', import.meta.url));

/** `count` requests to `path` with `concurrency` in flight on keep-alive connections; statuses counted. */
async function drive(port: number, path: string, count: number, concurrency: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const statuses = new Map<number, number>();
  let next = 0;
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  const worker = async () => {
    while (next < count) {
      next++;
      const status = await one();
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  const startedAt = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return { statuses, startedAt, endedAt: Date.now() };
}

describe.runIf(requires(redis))('two server processes sharing one route limit in Redis', () => {
  let admin: Redis;
  const prefix = `test:security-e2e:${randomUUID()}`;
  beforeAll(() => {
    admin = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    const keys = await admin.keys(`${prefix}:*`);
    if (keys.length > 0) await admin.del(...keys);
    await admin.quit();
  });

  it('10,000 requests over a Fastify and an Express process admit the limit once, within 1%', async () => {
    const limit = 2_000;
    const env = { REDIS_URL, PREFIX: prefix, LIMIT: String(limit), WINDOW: '1h' };
    const servers = [
      startLineChild(FIXTURE, { ...env, FRAMEWORK: 'fastify' }, { name: 'server' }),
      startLineChild(FIXTURE, { ...env, FRAMEWORK: 'express' }, { name: 'server' }),
    ];
    try {
      const ports = (await Promise.all(servers.map((s) => s.line('ready ')))).map((line) =>
        Number(line.slice('ready '.length)),
      );
      const runs = await Promise.all(ports.map((port) => drive(port, '/limited', 5_000, 16)));
      const count = (status: number) =>
        runs.reduce((sum, run) => sum + (run.statuses.get(status) ?? 0), 0);
      const admitted = count(200);
      // Every request was decided: admitted or refused with a 429, nothing else.
      expect(admitted + count(429)).toBe(10_000);
      // Both processes took part.
      for (const run of runs) expect(run.statuses.get(200) ?? 0).toBeGreaterThan(0);
      // GCRA gives back limit / window while the run lasts: 2,000 an hour is one per 1.8 s.
      const spanMs =
        Math.max(...runs.map((r) => r.endedAt)) - Math.min(...runs.map((r) => r.startedAt));
      const drained = Math.floor((spanMs * limit) / 3_600_000) + 1;
      expect(admitted).toBeGreaterThanOrEqual(limit);
      expect(admitted).toBeLessThanOrEqual(limit + drained);
      expect(Math.abs(admitted - limit) / limit).toBeLessThanOrEqual(0.01);
      // Decided by Redis throughout: no store error sent a decision to the insurance limiter.
      for (const server of servers) server.send('stats');
      const stats = (await Promise.all(servers.map((s) => s.line('stats ')))).map(
        (line) =>
          JSON.parse(line.slice('stats '.length)) as {
            storeErrors: number;
            policies: { name: string; allowed: number; refused: number }[];
          },
      );
      expect(stats.map((s) => s.storeErrors)).toEqual([0, 0]);
      const shared = stats.map((s) => s.policies.find((p) => p.name === 'shared')!);
      expect(shared.reduce((sum, p) => sum + p.allowed, 0)).toBe(admitted);
    } finally {
      for (const server of servers) server.send('stop');
      await Promise.all(servers.map((s) => s.line('never', 5_000).catch(() => undefined)));
      for (const server of servers) server.kill();
    }
  }, 90_000);
});

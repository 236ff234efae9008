// Redis goes away under a real server (Fastify and Express, the middleware's `security` option,
// rate limits in Redis reached through a loopback TCP proxy that the test closes and reopens):
// requests keep being served — decided by the per-process insurance limiter, which still limits —
// with no 500, no failed request and no unhandled rejection; the module reports `store-error`,
// then `store-recovered` once Redis is back.
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectUnhandledRejections, startRedisProxy, until } from '../../support/redis-outage.js';
import { REDIS_URL, redis, requires } from '../../support/requirements.js';
import type { TcpProxy } from '../../support/tcp-proxy.js';
import { e2eEnterprise, FRAMEWORKS, send, startHost } from './support.js';

/** Requests to `/api/items` with a few in flight until stopped; every outcome kept. */
function traffic(port: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const responses: { at: number; status: number; ms: number }[] = [];
  const failures: unknown[] = [];
  let running = true;
  const one = (page: number) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: `/api/items?page=${page}`, agent },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  let page = 0;
  const worker = async () => {
    while (running) {
      const at = Date.now();
      try {
        const status = await one(page++);
        responses.push({ at, status, ms: Date.now() - at });
      } catch (error) {
        failures.push(error);
      }
      await sleep(2);
    }
  };
  const workers = Promise.all(Array.from({ length: 4 }, worker));
  return {
    responses,
    failures,
    since: (at: number) => responses.filter((r) => r.at >= at),
    async stop() {
      running = false;
      await workers;
      agent.destroy();
    },
  };
}

describe.runIf(requires(redis))('a server whose rate-limit Redis goes away', () => {
  const unhandled = collectUnhandledRejections();
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

  it.each(FRAMEWORKS)(
    '%s: keeps serving on the insurance limiter, with store-error then store-recovered',
    async (framework) => {
      unhandled.length = 0;
      const prefix = `test:security-e2e-outage:${randomUUID()}`;
      prefixes.push(prefix);
      let proxy: TcpProxy = await startRedisProxy();
      const enterprise = e2eEnterprise({
        security: {
          redisUrl: `redis://127.0.0.1:${proxy.port}`,
          prefix,
          rateLimit: { store: 'redis', commandTimeoutMs: 200 },
          bans: { storeTimeoutMs: 200 },
          dynamic: false,
        },
      });
      const events: string[] = [];
      // Per policy: each rate limit's limiter meets the outage on its first call during it.
      enterprise.security.on('store-error', ({ store, policy }) =>
        events.push(`store-error:${store}:${policy ?? ''}`),
      );
      enterprise.security.on('store-recovered', ({ store, policy }) =>
        events.push(`store-recovered:${store}:${policy}`),
      );
      await enterprise.start();
      const host = await startHost(framework, enterprise, {
        rateLimits: [
          { name: 'api', path: '/api/*', limit: 100_000, window: '1m' },
          { name: 'export', path: '/export', limit: 3, window: '1m' },
        ],
      });
      const run = traffic(host.port);
      try {
        await until(() => run.responses.length >= 30, 'responses decided by Redis');
        const firstExport = await send(host.port, { path: '/export' });
        expect(firstExport.status).toBe(200);

        const port = proxy.port;
        const downAt = Date.now();
        await proxy.close();
        await until(() => events.includes('store-error:rate-limit:api'), 'store-error');
        await sleep(1_000);
        const duringOutage = run.since(downAt);
        expect(duringOutage.length).toBeGreaterThan(50);
        expect(new Set(duringOutage.map((r) => r.status))).toEqual(new Set([200]));
        // The insurance limiter still limits, per process: /export's 3 a minute, counted afresh.
        const exports: number[] = [];
        for (let i = 0; i < 5; i++)
          exports.push((await send(host.port, { path: '/export' })).status);
        expect(exports).toEqual([200, 200, 200, 429, 429]);

        proxy = await startRedisProxy(port);
        await until(
          () => events.includes('store-recovered:rate-limit:api'),
          'store-recovered',
          15_000,
        );
        const upAt = Date.now();
        await until(() => run.since(upAt).length >= 20, 'responses after the recovery');
      } finally {
        await run.stop();
        await host.close();
        await enterprise.shutdown();
        await proxy.close();
      }
      expect(new Set(run.responses.map((r) => r.status))).toEqual(new Set([200]));
      expect(run.failures).toEqual([]);
      expect(unhandled).toEqual([]);
      expect(events.filter((e) => e.includes(':rate-limit:api'))).toEqual([
        'store-error:rate-limit:api',
        'store-recovered:rate-limit:api',
      ]);
      expect(events).toContain('store-error:rate-limit:export');
      // Nobody waited on the dead connection much longer than the command timeout.
      expect(Math.max(...run.responses.map((r) => r.ms))).toBeLessThan(1_000);
    },
    40_000,
  );
});

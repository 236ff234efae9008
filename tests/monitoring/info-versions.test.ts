import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryTier } from '../../src/cache/tiers/memory.js';
import { postgresTier } from '../../src/cache/tiers/postgres.js';
import { redisTier } from '../../src/cache/tiers/redis.js';
import { sqliteTier } from '../../src/cache/tiers/sqlite.js';
import type { Enterprise } from '../../src/index.js';
import { createMonitoringRouter } from '../../src/monitoring/index.js';
import { redisTaskBackend } from '../../src/tasks/backends/redis.js';
import { POSTGRES_URL, postgres, REDIS_URL, redis, requires } from '../support/requirements.js';
import { AUTH, call, closedPort, conforms, json, TOKEN, testEnterprise } from './helpers.js';

/** `/info`'s `moduleVersions`: each enabled module's version and what it runs on. */
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** The installed version of a package, as its own package.json says. */
function installed(name: string): string {
  const require = createRequire(import.meta.url);
  for (const dir of require.resolve.paths(name) ?? []) {
    try {
      return JSON.parse(readFileSync(join(dir, name, 'package.json'), 'utf8')).version;
    } catch {}
  }
  throw new Error(`${name} is not installed`);
}

async function info(enterprise: Enterprise, timeoutMs = 1000) {
  const router = createMonitoringRouter({ enterprise, auth: TOKEN, health: { timeoutMs } });
  cleanup.push(async () => {
    await router.close();
    await enterprise.shutdown();
  });
  const read = async () => {
    const started = performance.now();
    const body = await json(await call(router, '/info', { headers: AUTH }));
    return { body, ms: performance.now() - started };
  };
  const doc: any = await json(await call(router, '/openapi.json', { headers: AUTH }));
  const schema = doc.paths['/info'].get.responses['200'].content['application/json'].schema;
  return { read, check: (body: unknown) => expect(conforms(doc, body, schema)).toEqual([]) };
}

describe('/info module versions', () => {
  it('lists only the enabled modules, each with the package version', async () => {
    const enterprise = testEnterprise({ alerts: false, performance: { systemMetrics: false } });
    const { read, check } = await info(enterprise);
    const { body } = await read();
    check(body);
    expect(Object.keys(body.moduleVersions).sort()).toEqual(['monitoring', 'performance']);
    expect(body.moduleVersions.performance).toEqual({ version: body.version, runsOn: {} });
    expect(body.moduleVersions.monitoring).toEqual({
      version: body.version,
      runsOn: { hono: installed('hono') },
    });
  });

  it.runIf(requires(redis))(
    'gives the Redis server and ioredis versions of the cache and the task backend',
    async () => {
      const prefix = `info-${randomUUID()}`;
      const tier = redisTier({ url: REDIS_URL, prefix });
      const backend = redisTaskBackend({ url: REDIS_URL, prefix: `${prefix}-tasks` });
      cleanup.push(
        () => tier.close(),
        () => backend.close(),
      );
      const enterprise = testEnterprise({
        alerts: false,
        performance: { systemMetrics: false },
        cache: { tiers: [memoryTier(), tier] },
        tasks: { backend },
      } as Parameters<typeof testEnterprise>[0]);
      enterprise.cache;
      await enterprise.tasks.backend();
      const probe = new Redis(REDIS_URL);
      const server = /^redis_version:(.+)$/m.exec(await probe.info('server'))![1]!.trim();
      probe.disconnect();
      const { read, check } = await info(enterprise);
      const { body } = await read();
      check(body);
      const expected = { redis: server, ioredis: installed('ioredis') };
      expect(body.moduleVersions.cache).toEqual({ version: body.version, runsOn: expected });
      expect(body.moduleVersions.tasks).toEqual({ version: body.version, runsOn: expected });
    },
  );

  it.runIf(requires(postgres))(
    'gives the PostgreSQL server and pg versions of a SQL tier',
    async () => {
      const table = `info_versions_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
      cleanup.push(async () => {
        await pool.query(`DROP TABLE IF EXISTS ${table}`);
        await pool.end();
      });
      const server = (await pool.query('SHOW server_version')).rows[0].server_version;
      const enterprise = testEnterprise({
        alerts: false,
        performance: { systemMetrics: false },
        cache: { tiers: [memoryTier(), postgresTier({ pool, table })] },
      });
      enterprise.cache;
      const { read } = await info(enterprise, 3000);
      const { body } = await read();
      expect(body.moduleVersions.cache.runsOn).toEqual({
        postgresql: server,
        pg: installed('pg'),
      });
    },
  );

  it('gives the SQLite library and better-sqlite3 versions of a SQLite tier', async () => {
    const database = new Database(':memory:');
    cleanup.push(async () => database.close());
    const enterprise = testEnterprise({
      alerts: false,
      performance: { systemMetrics: false },
      cache: { tiers: [memoryTier(), sqliteTier({ database, table: 'info_cache' })] },
    });
    enterprise.cache;
    const { read } = await info(enterprise);
    const { body } = await read();
    const library = (database.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    expect(body.moduleVersions.cache.runsOn).toEqual({
      sqlite: library,
      'better-sqlite3': installed('better-sqlite3'),
    });
  });

  it('answers quickly with the server version null when Redis is down', async () => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const tier = redisTier({ url, prefix: `info-${randomUUID()}` });
    const backend = redisTaskBackend({
      url,
      prefix: `info-${randomUUID()}`,
      commandTimeoutMs: 5_000,
      onError: () => {},
    });
    cleanup.push(
      () => tier.close(),
      () => backend.close(),
    );
    const enterprise = testEnterprise({
      alerts: false,
      performance: { systemMetrics: false },
      cache: { tiers: [memoryTier(), tier] },
      tasks: { backend },
    } as Parameters<typeof testEnterprise>[0]);
    enterprise.cache;
    // The task backend exists once the application used it (a statistics read builds it).
    await enterprise.tasks.backend();
    const { read, check } = await info(enterprise, 500);
    for (let round = 0; round < 3; round++) {
      const { body, ms } = await read();
      check(body);
      // The health timeout (500 ms) bounds the wait, with a generous margin for a loaded machine.
      expect(ms).toBeLessThan(2_500);
      expect(body.moduleVersions.cache.runsOn.redis ?? null).toBeNull();
      expect(body.moduleVersions.cache.version).toBe(body.version);
      expect(body.moduleVersions.tasks.version).toBe(body.version);
      expect(body.moduleVersions.tasks.runsOn.redis ?? null).toBeNull();
    }
  });
});

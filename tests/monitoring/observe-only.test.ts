import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Enterprise } from '../../src/index.js';
import { createMonitoringRouter, type MonitoringSnapshot } from '../../src/monitoring/index.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';
import {
  AUTH,
  closedPort,
  closeServer,
  json,
  listen,
  TOKEN,
  testEnterprise,
  until,
} from './helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/**
 * A loopback proxy in front of Redis that remembers the local port of each connection it opens
 * upstream: those ports are how this instance's connections appear in Redis's `CLIENT LIST`.
 */
async function countingProxy(target: URL): Promise<{ url: string; upstreamPorts: number[] }> {
  const upstreamPorts: number[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    upstream.on('connect', () => upstreamPorts.push(upstream.localPort!));
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as { port: number };
  return { url: `redis://127.0.0.1:${port}${target.pathname}`, upstreamPorts };
}

async function serve(enterprise: Enterprise) {
  const router = createMonitoringRouter({
    enterprise,
    auth: TOKEN,
    realtimeIntervalMs: 200,
    health: { cacheMs: 0 },
  });
  const { server, url } = await listen(router);
  cleanup.push(async () => {
    await router.close();
    await closeServer(server);
    await enterprise.shutdown();
  });
  return url;
}

const get = (url: string, path: string) => fetch(`${url}${path}`, { headers: AUTH });

/** Reads `count` snapshots from the real-time stream, then closes it. */
async function readSnapshots(url: string, count: number): Promise<MonitoringSnapshot[]> {
  const controller = new AbortController();
  const response = await fetch(`${url}/performance/realtime`, {
    headers: AUTH,
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const snapshots: MonitoringSnapshot[] = [];
  let buffer = '';
  try {
    while (snapshots.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        const data = buffer
          .slice(0, end)
          .split('\n')
          .find((line) => line.startsWith('data: '));
        if (data !== undefined) snapshots.push(JSON.parse(data.slice(6)) as MonitoringSnapshot);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
      }
    }
  } finally {
    controller.abort();
  }
  return snapshots;
}

/** Every endpoint a dashboard and an orchestrator read, for about `ms` milliseconds. */
async function observe(url: string, ms: number): Promise<MonitoringSnapshot[]> {
  const deadline = Date.now() + ms;
  const stream = readSnapshots(url, Math.max(3, Math.floor(ms / 200) - 2));
  while (Date.now() < deadline) {
    for (const path of ['/health', '/performance/summary', '/dashboard', '/cache/analytics']) {
      const response = await get(url, path);
      expect(response.status, path).toBe(200);
      await response.arrayBuffer();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return stream;
}

describe('monitoring observes modules without building them', () => {
  it('shows a cache and tasks never built as enabled: false, and builds neither', async () => {
    const enterprise = testEnterprise();
    const url = await serve(enterprise);
    const analytics = await json(await get(url, '/cache/analytics'));
    expect(analytics).toMatchObject({ enabled: false, hits: 0, misses: 0, tiers: [] });
    expect(analytics.warmers).toEqual([]);
    const tasks = await json(await get(url, '/tasks/monitoring'));
    expect(tasks).toMatchObject({ enabled: false, backend: null, queues: [], deadLetters: [] });
    const [snapshot] = await readSnapshots(url, 1);
    expect(snapshot!.cache).toMatchObject({ enabled: false, tiers: [] });
    expect(snapshot!.tasks).toMatchObject({ enabled: false, queues: [] });
    expect((await json(await get(url, '/info'))).modules).toMatchObject({
      cache: false,
      tasks: false,
    });
    expect(enterprise.peek('cache')).toBeUndefined();
    expect(enterprise.peek('tasks')).toBeUndefined();

    // Once the application uses them, they are observed as before.
    await enterprise.cache.set('k', 1);
    await enterprise.tasks.stats();
    expect(await json(await get(url, '/cache/analytics'))).toMatchObject({
      enabled: true,
      tiers: [{ name: 'memory' }],
    });
    expect(await json(await get(url, '/tasks/monitoring'))).toMatchObject({
      enabled: true,
      backend: 'memory',
    });
  });

  it('keeps readiness independent of a Redis the process never used', async () => {
    const enterprise = testEnterprise({
      env: { REDIS_URL: `redis://127.0.0.1:${await closedPort()}` },
    });
    const url = await serve(enterprise);
    await enterprise.start();
    const health = await json(await get(url, '/health'));
    expect(health.status).toBe('ok');
    const names = health.components.map((c: { name: string }) => c.name);
    expect(names).not.toContain('redis');
    expect(names).not.toContain('task-backend');
    expect((await get(url, '/health/ready')).status).toBe(200);
    expect(enterprise.peek('cache')).toBeUndefined();
  });
});

describe.runIf(requires(redis))('monitoring a process with REDIS_URL set', () => {
  it('opens no Redis connection until the application uses the cache', async () => {
    const proxy = await countingProxy(new URL(REDIS_URL));
    const admin = new Redis(REDIS_URL, { connectionName: `observe-admin-${randomUUID()}` });
    cleanup.push(async () => {
      await admin.quit();
    });
    const ours = async () => {
      const list = (await admin.client('LIST')) as string;
      return list
        .split('\n')
        .filter((line) => proxy.upstreamPorts.some((port) => line.includes(`:${port} `)));
    };
    // start() builds the alerts, which keep their shared state in this Redis: what is checked
    // here is what monitoring opens, so the alerts are left out.
    const enterprise = testEnterprise({ env: { REDIS_URL: proxy.url }, alerts: false });
    const url = await serve(enterprise);
    await enterprise.start();
    const snapshots = await observe(url, 3_000);
    expect(snapshots.length).toBeGreaterThanOrEqual(3);
    expect(snapshots.every((s) => s.cache?.enabled === false && s.tasks?.enabled === false)).toBe(
      true,
    );
    expect((await get(url, '/health/ready')).status).toBe(200);
    expect(proxy.upstreamPorts).toEqual([]);
    expect(await ours()).toEqual([]);
    expect(enterprise.peek('cache')).toBeUndefined();
    expect(enterprise.peek('tasks')).toBeUndefined();

    // Built by the application, the cache's Redis is checked as it always was.
    await enterprise.cache.get(`observe:${randomUUID()}`);
    await until(async () => (await ours()).length > 0);
    const health = await json(await get(url, '/health'));
    const redisComponent = health.components.find((c: { name: string }) => c.name === 'redis');
    expect(redisComponent).toMatchObject({
      status: 'ok',
      critical: false,
      details: { source: 'cache', tier: 'redis' },
    });
    expect(health.components.map((c: { name: string }) => c.name)).not.toContain('task-backend');
  });
});

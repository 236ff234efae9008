import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Enterprise } from '../../src/index.js';
import { createMonitoringRouter, type MonitoringSnapshot } from '../../src/monitoring/index.js';
import { RealtimeHub } from '../../src/monitoring/realtime.js';
import { memoryTaskBackend, type TaskBackend } from '../../src/tasks/index.js';
import {
  AUTH,
  closeServer,
  json,
  listen,
  SseReader,
  TOKEN,
  testEnterprise,
  until,
} from './helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function serve(
  options: Parameters<typeof createMonitoringRouter>[0] = {},
  enterprise: Enterprise = testEnterprise(),
) {
  const router = createMonitoringRouter({
    enterprise,
    auth: TOKEN,
    realtimeIntervalMs: 100,
    ...options,
  });
  const { server, url } = await listen(router);
  cleanup.push(async () => {
    await router.close();
    await closeServer(server);
    await enterprise.shutdown();
  });
  return { enterprise, router, server, url };
}

async function connect(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(`${url}/performance/realtime`, {
    headers: { ...AUTH, ...headers },
    signal: controller.signal,
  });
  const reader = response.ok ? new SseReader(response.body!) : undefined;
  cleanup.push(async () => {
    controller.abort();
    await reader?.finished;
  });
  return { response, reader: reader!, abort: () => controller.abort() };
}

describe('GET /performance/realtime over a real HTTP server', () => {
  it('streams snapshots with SSE headers, ids, retry and the snapshot shape', async () => {
    const { url, enterprise } = await serve();
    // The application uses both modules: the stream then reports their figures.
    enterprise.cache;
    enterprise.tasks;
    enterprise.performance.record('http.request', 20, {
      labels: { route: '/x', method: 'GET', status_class: '2xx' },
    });
    const { response, reader } = await connect(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    await until(() => reader.snapshots().length >= 3);
    expect(reader.events[0]!.retry).toBe('1000');
    const events = reader.events.filter((event) => event.event === 'snapshot');
    expect(events.slice(0, 3).map((event) => event.id)).toEqual(['1', '2', '3']);
    const [first] = reader.snapshots();
    expect(first!.seq).toBe(1);
    expect(Date.parse(first!.time)).not.toBeNaN();
    expect(first!.health.status).toBe('ok');
    expect(first!.performance.requests.count).toBe(1);
    expect(first!.performance.requests.p50).toBeGreaterThan(0);
    expect(first!.system.memory.heapUsed).toBeGreaterThan(0);
    expect(first!.cache).toMatchObject({
      enabled: true,
      hitRatio: 0,
      tiers: [{ name: 'memory' }],
    });
    expect(first!.tasks).toMatchObject({ enabled: true, backend: 'memory', deadLetters: [] });
  });

  it('resumes the numbering after Last-Event-ID', async () => {
    const { url } = await serve();
    const { reader } = await connect(url, { 'last-event-id': '41' });
    await until(() => reader.snapshots().length >= 2);
    expect(
      reader
        .snapshots()
        .map((s) => s.seq)
        .slice(0, 2),
    ).toEqual([42, 43]);
    const ids = reader.events.filter((e) => e.event === 'snapshot').map((e) => e.id);
    expect(ids.slice(0, 2)).toEqual(['42', '43']);
    const { reader: garbage } = await connect(url, { 'last-event-id': 'abc' });
    await until(() => garbage.snapshots().length >= 1);
    expect(garbage.snapshots()[0]!.seq).toBe(1);
  });

  it('sends heartbeat comments between snapshots', async () => {
    const { url } = await serve({ realtimeIntervalMs: 60_000, heartbeatMs: 50 });
    const { reader } = await connect(url);
    await until(() => reader.events.filter((e) => e.comment?.startsWith('heartbeat')).length >= 2);
    // One snapshot at connect time, none since: the interval is a minute.
    expect(reader.snapshots()).toHaveLength(1);
  });

  it('builds one snapshot per interval for every client', async () => {
    const { url, router } = await serve({ realtimeIntervalMs: 150 });
    const a = await connect(url);
    const b = await connect(url);
    const c = await connect(url);
    expect(router.realtimeStatus()).toEqual({ streams: 3, timers: 2 });
    await until(() => [a, b, c].every(({ reader }) => reader.snapshots().length >= 4));
    const times = (reader: SseReader) =>
      new Set(
        reader
          .snapshots()
          .slice(1, 4)
          .map((s) => s.time),
      );
    // After everyone connected, each client received the very same snapshots.
    const later = [...times(c.reader)];
    for (const { reader } of [a, b]) {
      const all = new Set(reader.snapshots().map((s) => s.time));
      expect(later.every((time) => all.has(time))).toBe(true);
    }
  });

  it('cleans up when the client leaves: stream detached, timers stopped', async () => {
    const { url, router } = await serve();
    const { reader, abort } = await connect(url);
    await until(() => reader.snapshots().length >= 1);
    expect(router.realtimeStatus()).toEqual({ streams: 1, timers: 2 });
    abort();
    await until(() => router.realtimeStatus().streams === 0, 2_000);
    expect(router.realtimeStatus()).toEqual({ streams: 0, timers: 0 });
  });

  it('cleans up when the socket is destroyed mid-stream', async () => {
    const { url, router } = await serve();
    const target = new URL(`${url}/performance/realtime`);
    const request = httpRequest(target, { headers: AUTH });
    const firstChunk = new Promise<string>((resolve, reject) => {
      request.on('response', (response) => {
        response.once('data', (chunk: Buffer) => resolve(chunk.toString()));
      });
      request.on('error', reject);
    });
    request.end();
    expect(await firstChunk).toContain('retry:');
    expect(router.realtimeStatus().streams).toBe(1);
    request.destroy();
    await until(() => router.realtimeStatus().streams === 0, 2_000);
    expect(router.realtimeStatus().timers).toBe(0);
  });

  it('caps concurrent streams with 503 and Retry-After, and frees the slot on disconnect', async () => {
    const { url, router } = await serve({ maxStreams: 2 });
    const first = await connect(url);
    await connect(url);
    const refused = await connect(url);
    expect(refused.response.status).toBe(503);
    expect(Number(refused.response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await json(refused.response)).error.code).toBe('E_TOO_MANY_STREAMS');
    first.abort();
    await until(() => router.realtimeStatus().streams === 1, 2_000);
    const again = await connect(url);
    expect(again.response.status).toBe(200);
    await until(() => again.reader.snapshots().length >= 1);
  });

  it('refuses the stream without credentials', async () => {
    const { url, router } = await serve();
    const response = await fetch(`${url}/performance/realtime`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(router.realtimeStatus().streams).toBe(0);
  });

  it('close() ends open streams and refuses new ones', async () => {
    const { url, router } = await serve();
    const { reader } = await connect(url);
    await until(() => reader.snapshots().length >= 1);
    await router.close();
    await reader.finished;
    expect(reader.done).toBe(true);
    expect(router.realtimeStatus()).toEqual({ streams: 0, timers: 0 });
    const refused = await fetch(`${url}/performance/realtime`, { headers: AUTH });
    expect(refused.status).toBe(503);
  });

  it('serves the other endpoints through the same server', async () => {
    const { url } = await serve();
    const health = await fetch(`${url}/health`, { headers: AUTH });
    expect(health.status).toBe(200);
    expect(health.headers.get('x-request-id')).toBeTruthy();
    expect(health.headers.get('content-security-policy')).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
    expect(health.headers.get('strict-transport-security')).toContain('max-age=31536000');
    const echoed = await fetch(`${url}/health/live`, { headers: { 'x-request-id': 'trace-7' } });
    expect(echoed.headers.get('x-request-id')).toBe('trace-7');
    const page = await fetch(`${url}/dashboard`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const missing = await fetch(`${url}/nope`, { headers: AUTH });
    expect(missing.status).toBe(404);
    const wrong = await fetch(`${url}/health`, { method: 'POST', headers: AUTH });
    expect(wrong.status).toBe(405);
    const unauthorized = await fetch(`${url}/metrics`);
    expect(unauthorized.status).toBe(401);
  });
});

describe('RealtimeHub back-pressure', () => {
  it('skips snapshots for a client that does not read instead of buffering without bound', async () => {
    // 64 KiB snapshots every 20 ms: a client that reads nothing for 1 s is offered ~3 MiB.
    const padding = 'x'.repeat(64 * 1024);
    let built = 0;
    const hub = new RealtimeHub({
      intervalMs: 20,
      heartbeatMs: 10,
      maxStreams: 2,
      build: async () => {
        built++;
        return { padding } as unknown as Omit<MonitoringSnapshot, 'seq'>;
      },
      onError: () => undefined,
    });
    try {
      const response = hub.open(new Request('http://h/performance/realtime'));
      await until(() => built >= 30, 5_000);
      // Everything queued for the client is there now: read it without waiting for more.
      const reader = response.body!.getReader();
      let queued = 0;
      for (;;) {
        const next = await Promise.race([
          reader.read(),
          new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined))),
        ]);
        if (next === undefined || next.done) break;
        queued += next.value.byteLength;
      }
      // The queue stops at its 256 KiB mark (plus the chunk that crossed it), far below ~2 MiB.
      expect(queued).toBeGreaterThan(64 * 1024);
      expect(queued).toBeLessThan(256 * 1024 + 2 * 70 * 1024);
      await reader.cancel();
      expect(hub.streams).toBe(0);
      expect(hub.timers).toBe(0);
    } finally {
      hub.close();
    }
  });
});

describe('task figures on a slow backend', () => {
  it('never has two statistics reads in flight, sending the last figures marked stale meanwhile', async () => {
    const inner = memoryTaskBackend();
    let inFlight = 0;
    let most = 0;
    let reads = 0;
    // Every statistics read asks for the queue counts; this store takes 700 ms to answer.
    const slow: TaskBackend = new Proxy(inner, {
      get(target, property, receiver) {
        if (property === 'counts') {
          return async (queue: string) => {
            reads += 1;
            inFlight += 1;
            most = Math.max(most, inFlight);
            try {
              await new Promise((resolve) => setTimeout(resolve, 700));
              return await target.counts(queue);
            } finally {
              inFlight -= 1;
            }
          };
        }
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const enterprise = testEnterprise({ tasks: { backend: slow } });
    enterprise.tasks;
    const { url } = await serve(
      { realtimeIntervalMs: 100, health: { timeoutMs: 150 } },
      enterprise,
    );
    const { reader } = await connect(url);
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect(most).toBe(1);
    // Reads follow each other (about one per 700 ms), not one per tick.
    expect(reads).toBeGreaterThanOrEqual(3);
    expect(reads).toBeLessThanOrEqual(6);
    const withTasks = reader.snapshots().filter((snapshot) => snapshot.tasks !== null);
    expect(withTasks.some((snapshot) => snapshot.tasks!.stale)).toBe(true);
    for (const snapshot of withTasks) {
      expect(Date.parse(snapshot.tasks!.readAt)).toBeLessThanOrEqual(Date.parse(snapshot.time));
    }
  }, 10_000);
});

import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Enterprise } from '../../src/index.js';
import {
  createMonitoringRouter,
  DASHBOARD_CONTENT_SECURITY_POLICY,
  MonitoringConfigError,
  type MonitoringRouter,
  monitorQuery,
} from '../../src/monitoring/index.js';
import { AUTH, call, json, silent, TOKEN, testEnterprise } from './helpers.js';

const open: { router: MonitoringRouter; enterprise: Enterprise }[] = [];

function setup(options: Parameters<typeof createMonitoringRouter>[0] = {}) {
  const enterprise = (options.enterprise as Enterprise | undefined) ?? testEnterprise();
  const router = createMonitoringRouter({ auth: TOKEN, ...options, enterprise });
  open.push({ router, enterprise });
  return { router, enterprise };
}

afterEach(async () => {
  for (const { router, enterprise } of open.splice(0)) {
    await router.close();
    await enterprise.shutdown();
  }
});

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

describe('production refusal and options', () => {
  const previous = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = previous;
  });

  it('refuses to start in production without auth, unless public: true', () => {
    process.env.NODE_ENV = 'production';
    const enterprise = testEnterprise();
    open.push({ router: { close: async () => {} } as MonitoringRouter, enterprise });
    let caught: unknown;
    try {
      createMonitoringRouter({ enterprise });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MonitoringConfigError);
    expect((caught as MonitoringConfigError).code).toBe('E_MONITORING_AUTH_REQUIRED');
    expect(() => createMonitoringRouter({ enterprise, auth: TOKEN }).close()).not.toThrow();
    expect(() => createMonitoringRouter({ enterprise, public: true }).close()).not.toThrow();
  });

  it('starts without auth outside production', async () => {
    process.env.NODE_ENV = 'test';
    const { router } = setup({ auth: undefined });
    expect((await call(router, '/info')).status).toBe(200);
  });

  it('rejects invalid options with E_MONITORING_CONFIG', () => {
    const enterprise = testEnterprise();
    open.push({ router: { close: async () => {} } as MonitoringRouter, enterprise });
    for (const options of [
      { auth: '' },
      { auth: 'two words' },
      { auth: 42 as unknown as string },
      { realtimeIntervalMs: 5 },
      { maxStreams: 0 },
      { basePath: 'no-slash' },
      { health: { timeoutMs: -1 } },
      { strictTransportSecurity: 'yes' },
      { strictTransportSecurity: true as unknown as string },
    ]) {
      expect(() => createMonitoringRouter({ enterprise, ...options })).toThrow(
        expect.objectContaining({ code: 'E_MONITORING_CONFIG' }),
      );
    }
  });
});

describe('auth', () => {
  it('answers 401 with a Bearer challenge without a token or with a wrong one', async () => {
    const { router } = setup();
    const missing = await call(router, '/performance/summary');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await json(missing)).toEqual({
      error: { code: 'E_UNAUTHORIZED', message: expect.any(String) },
    });
    const wrong = await call(router, '/performance/summary', {
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('invalid_token');
    const basic = await call(router, '/info', { headers: { authorization: `Basic ${TOKEN}` } });
    expect(basic.status).toBe(401);
    const right = await call(router, '/performance/summary', { headers: AUTH });
    expect(right.status).toBe(200);
    const lowerScheme = await call(router, '/info', {
      headers: { authorization: `bearer ${TOKEN}` },
    });
    expect(lowerScheme.status).toBe(200);
  });

  it('protects every data endpoint and action, and leaves the probes, dashboard and docs shells open', async () => {
    const { router } = setup();
    for (const route of router.routes) {
      const path = route.path
        .replace(':id', 'some-id')
        .replace(':queue', 'q')
        .replace(':name', 'w')
        .replace(':tag', 't')
        .replace(':file', 'app.js');
      const response = await call(router, path, { method: route.method });
      await response.body?.cancel();
      const open = [
        '/health/live',
        '/health/ready',
        '/dashboard',
        '/dashboard/assets/:file',
        '/docs',
        '/docs/assets/:file',
      ];
      if (open.includes(route.path)) expect(response.status, route.path).not.toBe(401);
      else expect(response.status, `${route.method} ${route.path}`).toBe(401);
    }
  });

  it('keeps auth when public: true is given with it (fails closed)', async () => {
    const { router } = setup({ auth: TOKEN, public: true });
    const anonymous = await call(router, '/metrics');
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
    expect((await call(router, '/metrics', { headers: AUTH })).status).toBe(200);
    const doc = await json(await call(router, '/openapi.json', { headers: AUTH }));
    expect(doc.security).toEqual([{ bearer: [] }]);
  });

  it('cannot be bypassed by path tricks, HEAD or a trailing slash', async () => {
    const { router } = setup();
    const tricks = [
      '/health/',
      '/dashboard/../metrics',
      '/dashboard/%2e%2e/info',
      '/health/live/../../performance/summary',
      '/dashboard/assets/../../openapi.json',
      '/%6detrics',
      '/metrics?auth=1',
    ];
    for (const method of ['GET', 'HEAD']) {
      for (const path of tricks) {
        const response = await call(router, path, { method });
        await response.body?.cancel();
        expect(response.status, `${method} ${path}`).toBe(401);
      }
      for (const path of ['//metrics', '/METRICS', '/metrics%2F', '/dashboard/..%2Fmetrics']) {
        const response = await call(router, path, { method });
        await response.body?.cancel();
        expect(response.status, `${method} ${path}`).toBe(404);
      }
    }
  });

  it('a hook returning false answers 401 without credentials and 403 with refused ones', async () => {
    const { router } = setup({
      auth: async (request) => request.headers.get('authorization') === 'Token good',
    });
    expect((await call(router, '/info')).status).toBe(401);
    const refused = await call(router, '/info', { headers: { authorization: 'Token bad' } });
    expect(refused.status).toBe(403);
    expect((await json(refused)).error.code).toBe('E_FORBIDDEN');
    expect((await call(router, '/info', { headers: { authorization: 'Token good' } })).status).toBe(
      200,
    );
  });

  it('a hook that throws is a 500 that leaks neither message nor stack', async () => {
    const { router } = setup({
      auth: () => {
        throw new Error('database password is hunter2');
      },
    });
    const response = await call(router, '/info');
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('at ');
    expect(JSON.parse(text).error.code).toBe('E_INTERNAL');
  });
});

describe('headers, ids and errors', () => {
  it('sends the given Strict-Transport-Security, or none with false, on data and dashboard', async () => {
    const { router: short } = setup({ strictTransportSecurity: 'max-age=300' });
    const { router: none } = setup({ strictTransportSecurity: false });
    for (const path of ['/info', '/dashboard']) {
      const shortResponse = await call(short, path, { headers: AUTH });
      await shortResponse.arrayBuffer();
      expect(shortResponse.headers.get('strict-transport-security'), path).toBe('max-age=300');
      const noneResponse = await call(none, path, { headers: AUTH });
      await noneResponse.arrayBuffer();
      expect(noneResponse.status, path).toBe(200);
      expect(noneResponse.headers.get('strict-transport-security'), path).toBeNull();
      expect(noneResponse.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });

  it('sets the security headers on every response, a strict CSP on the dashboard', async () => {
    const { router } = setup();
    for (const [path, headers] of [
      ['/info', AUTH],
      ['/info', {}],
      ['/nope', AUTH],
      ['/health/live', {}],
    ] as const) {
      const response = await call(router, path, { headers });
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=31536000/);
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('content-security-policy')).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
    }
    const page = await call(router, '/dashboard');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toBe(DASHBOARD_CONTENT_SECURITY_POLICY);
    expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
  });

  it('echoes a valid inbound x-request-id and generates one otherwise', async () => {
    const { router } = setup();
    const reused = await call(router, '/health/live', { headers: { 'x-request-id': 'abc-123' } });
    expect(reused.headers.get('x-request-id')).toBe('abc-123');
    const invalid = await call(router, '/health/live', {
      headers: { 'x-request-id': 'x'.repeat(300) },
    });
    expect(invalid.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const none = await call(router, '/nope');
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers 404 for unknown paths and 405 with Allow for a wrong method', async () => {
    const { router } = setup();
    const missing = await call(router, '/does/not/exist', { headers: AUTH });
    expect(missing.status).toBe(404);
    expect(await json(missing)).toEqual({
      error: { code: 'E_NOT_FOUND', message: expect.any(String) },
    });
    const wrong = await call(router, '/metrics', { method: 'POST', headers: AUTH });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    expect((await json(wrong)).error.code).toBe('E_METHOD_NOT_ALLOWED');
    const getAction = await call(router, '/tasks/dead/purge', { headers: AUTH });
    expect(getAction.status).toBe(405);
    expect(getAction.headers.get('allow')).toBe('POST');
    const deleteIt = await call(router, '/cache/tags/x/invalidate', {
      method: 'DELETE',
      headers: AUTH,
    });
    expect(deleteIt.status).toBe(405);
  });

  it('answers HEAD like GET without a body', async () => {
    const { router } = setup();
    const response = await call(router, '/info', { method: 'HEAD', headers: AUTH });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it('serves under basePath when given full paths', async () => {
    const { router } = setup({ basePath: '/api/v1/monitoring/' });
    expect((await call(router, '/api/v1/monitoring/health/live')).status).toBe(200);
    const doc = await json(
      await call(router, '/api/v1/monitoring/openapi.json', { headers: AUTH }),
    );
    expect(doc.servers).toEqual([{ url: '/api/v1/monitoring' }]);
    const anonymous = await call(router, '/api/v1/monitoring/dashboard/../metrics');
    expect(anonymous.status).toBe(401);
    await anonymous.body?.cancel();
    expect((await call(router, '/health/live')).status).toBe(404);
    const wrong = await call(router, '/api/v1/monitoring/metrics', {
      method: 'PUT',
      headers: AUTH,
    });
    expect(wrong.status).toBe(405);
  });
});

describe('endpoints', () => {
  it('/health reports components and /health/live, /health/ready follow the lifecycle', async () => {
    const { router, enterprise } = setup();
    const health = await call(router, '/health', { headers: AUTH });
    expect(health.status).toBe(200);
    const body = await json(health);
    expect(body.status).toBe('ok');
    expect(body.components.map((c: { name: string }) => c.name)).toContain('event-loop');
    expect((await call(router, '/health/live')).status).toBe(200);
    const notReady = await call(router, '/health/ready');
    expect(notReady.status).toBe(503);
    expect(await json(notReady)).toEqual({ status: 'not-ready', reason: 'instance is created' });
    await enterprise.start();
    const ready = await call(router, '/health/ready');
    expect(ready.status).toBe(200);
    expect(await json(ready)).toEqual({ status: 'ready' });
  });

  it('/health answers 503 when a critical custom check is down, 200 degraded for a non-critical one', async () => {
    const enterprise = testEnterprise();
    const { router } = setup({
      enterprise,
      health: {
        checks: { payments: () => false, search: async () => ({ status: 'down', message: 'x' }) },
        critical: ['payments'],
      },
    });
    const response = await call(router, '/health', { headers: AUTH });
    expect(response.status).toBe(503);
    const body = await json(response);
    expect(body.status).toBe('down');
    const byName = Object.fromEntries(body.components.map((c: { name: string }) => [c.name, c]));
    expect(byName.payments).toMatchObject({ status: 'down', critical: true });
    expect(byName.search).toMatchObject({ status: 'down', critical: false, message: 'x' });

    const { router: lenient } = setup({
      enterprise: testEnterprise(),
      health: { checks: { search: () => 'down' }, critical: [] },
    });
    const degraded = await call(lenient, '/health', { headers: AUTH });
    expect(degraded.status).toBe(200);
    expect((await json(degraded)).status).toBe('degraded');
  });

  it('/health times out a hanging check', async () => {
    const { router } = setup({
      health: { timeoutMs: 100, checks: { hang: () => new Promise(() => {}) } },
    });
    const started = performance.now();
    const response = await call(router, '/health', { headers: AUTH });
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(response.status).toBe(503);
    const body = await json(response);
    expect(body.components.find((c: { name: string }) => c.name === 'hang').message).toMatch(
      /within 100 ms/,
    );
  });

  it('/performance/summary, /metrics and /info', async () => {
    const { router, enterprise } = setup();
    enterprise.performance.record('checkout', 12, { labels: { step: 'pay' } });
    const summary = await json(await call(router, '/performance/summary', { headers: AUTH }));
    expect(summary.operations.map((op: { name: string }) => op.name)).toContain('checkout');
    const metrics = await call(router, '/metrics', { headers: AUTH });
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await metrics.text()).toContain(
      'enterprise_operation_duration_seconds_count{operation="checkout",step="pay"} 1',
    );
    const info = await json(await call(router, '/info', { headers: AUTH }));
    expect(info).toMatchObject({
      name: '@revcopy/enterprise',
      version: pkg.version,
      node: process.version,
      state: 'created',
      modules: {
        performance: true,
        cache: false,
        tasks: false,
        monitoring: true,
        security: false,
        alerts: false,
      },
    });
    // Modules count as enabled once the application has built them.
    enterprise.cache;
    enterprise.tasks;
    const built = await json(await call(router, '/info', { headers: AUTH }));
    expect(built.modules).toMatchObject({ cache: true, tasks: true });
    expect(info.uptimeSeconds).toBeGreaterThan(0);
    const index = await json(await call(router, '/', { headers: AUTH }));
    expect(index.endpoints).toContainEqual({ method: 'GET', path: '/health' });
  });

  it('/database/performance lists statements by fingerprint and validates the window', async () => {
    const { router, enterprise } = setup();
    for (const id of [1, 2, 3]) {
      await monitorQuery(`SELECT * FROM users WHERE id = ${id}`, async () => id, { enterprise });
    }
    expect(() =>
      monitorQuery(
        'DELETE FROM users',
        () => {
          throw new Error('no');
        },
        { enterprise },
      ),
    ).toThrow('no');
    const response = await call(router, '/database/performance?window=1m', { headers: AUTH });
    const body = await json(response);
    expect(body.window).toBe('1m');
    const select = body.statements.find(
      (s: { statement: string }) => s.statement === 'SELECT * FROM users WHERE id = ?',
    );
    expect(select).toMatchObject({ count: 3, errors: 0 });
    const failed = body.statements.find(
      (s: { statement: string }) => s.statement === 'DELETE FROM users',
    );
    expect(failed).toMatchObject({ count: 1, errors: 1 });
    expect(body.slowest.length).toBe(4);
    expect(body.slowest[0].durationMs).toBeGreaterThanOrEqual(body.slowest[3].durationMs);
    const bad = await call(router, '/database/performance?window=2h', { headers: AUTH });
    expect(bad.status).toBe(400);
    expect((await json(bad)).error.code).toBe('E_BAD_REQUEST');
  });

  it('/cache/analytics and the cache actions', async () => {
    const { router, enterprise } = setup();
    const cache = enterprise.cache;
    await cache.set('user:1', { name: 'Ada' }, { tags: ['users'] });
    await cache.get('user:1');
    let warmed = 0;
    cache.registerWarmer('top-users', () => {
      warmed++;
    });
    cache.registerWarmer('broken', () => {
      throw new Error('warmer failed');
    });
    const analytics = await json(await call(router, '/cache/analytics', { headers: AUTH }));
    expect(analytics.enabled).toBe(true);
    expect(analytics.hits).toBe(1);
    expect(analytics.warmers).toEqual(['top-users', 'broken']);

    const run = await call(router, '/cache/warmers/top-users/run', {
      method: 'POST',
      headers: AUTH,
    });
    expect(run.status).toBe(200);
    expect(await json(run)).toMatchObject({ ok: true, name: 'top-users' });
    expect(warmed).toBe(1);
    const broken = await call(router, '/cache/warmers/broken/run', {
      method: 'POST',
      headers: AUTH,
    });
    expect(broken.status).toBe(500);
    expect((await json(broken)).error.code).toBe('E_ACTION_FAILED');
    const unknown = await call(router, '/cache/warmers/none/run', {
      method: 'POST',
      headers: AUTH,
    });
    expect(unknown.status).toBe(404);

    const invalidate = await call(router, '/cache/tags/users/invalidate', {
      method: 'POST',
      headers: AUTH,
    });
    expect(invalidate.status).toBe(200);
    expect(await cache.get('user:1')).toBeUndefined();
    const unauthenticated = await call(router, '/cache/tags/users/invalidate', { method: 'POST' });
    expect(unauthenticated.status).toBe(401);
  });

  it('refuses actions sent from another site', async () => {
    const { router } = setup();
    const crossSite = await call(router, '/cache/tags/users/invalidate', {
      method: 'POST',
      headers: { ...AUTH, 'sec-fetch-site': 'cross-site' },
    });
    expect(crossSite.status).toBe(403);
    const otherOrigin = await call(router, '/cache/tags/users/invalidate', {
      method: 'POST',
      headers: { ...AUTH, origin: 'https://evil.example' },
    });
    expect(otherOrigin.status).toBe(403);
    const sameOrigin = await call(router, '/cache/tags/users/invalidate', {
      method: 'POST',
      headers: { ...AUTH, origin: 'http://monitoring.test', 'sec-fetch-site': 'same-origin' },
    });
    expect(sameOrigin.status).toBe(200);
  });

  it('/security/monitoring and /alerts answer 501 until their modules exist', async () => {
    const { router } = setup();
    for (const path of ['/security/monitoring', '/alerts']) {
      const response = await call(router, path, { headers: AUTH });
      expect(response.status).toBe(501);
      expect((await json(response)).error.code).toBe('E_MODULE_NOT_ENABLED');
    }
  });

  it('serves the dashboard page and assets with validators and long caching', async () => {
    const { router } = setup();
    const page = await call(router, '/dashboard');
    const etag = page.headers.get('etag');
    expect(etag).toBeTruthy();
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const again = await call(router, '/dashboard', { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    const script = await call(router, '/dashboard/assets/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.headers.get('cache-control')).toContain('immutable');
    expect(script.headers.get('content-security-policy')).toBe(DASHBOARD_CONTENT_SECURITY_POLICY);
    const missing = await call(router, '/dashboard/assets/nope.js');
    expect(missing.status).toBe(404);
    expect((await call(router, '/dashboard/assets/__proto__')).status).toBe(404);
    // With a trailing slash the page's relative links would miss: it redirects to the page.
    const slash = await call(router, '/dashboard/');
    expect(slash.status).toBe(308);
    expect(
      new URL(slash.headers.get('location')!, 'http://h/api/v1/monitoring/dashboard/').pathname,
    ).toBe('/api/v1/monitoring/dashboard');
  });
});

describe('openapi.json', () => {
  it('is an OpenAPI 3.1 document of exactly the routes the router serves', async () => {
    const { router } = setup();
    const response = await call(router, '/openapi.json', { headers: AUTH });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const doc = JSON.parse(await response.text());
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: pkg.version });
    // Paths resolve against the document's own location, i.e. under whatever prefix it is mounted.
    expect(doc.servers).toEqual([{ url: '.' }]);
    const resolved = new URL(
      `${new URL(doc.servers[0].url, 'http://h/api/v1/monitoring/openapi.json').href.replace(/\/$/, '')}/health`,
    );
    expect(resolved.pathname).toBe('/api/v1/monitoring/health');

    const served = new Set(
      router.routes.map(
        (r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z_]\w*)/g, '{$1}')}`,
      ),
    );
    const documented = new Set<string>();
    const methods = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
    const operationIds = new Set<string>();
    for (const [path, item] of Object.entries<Record<string, any>>(doc.paths)) {
      expect(path.startsWith('/')).toBe(true);
      for (const [method, operation] of Object.entries<any>(item)) {
        expect(methods.has(method), method).toBe(true);
        documented.add(`${method} ${path}`);
        expect(operationIds.has(operation.operationId)).toBe(false);
        operationIds.add(operation.operationId);
        expect(Object.keys(operation.responses).length).toBeGreaterThan(0);
        for (const [status, answer] of Object.entries<any>(operation.responses)) {
          expect(status).toMatch(/^[1-5]\d\d$/);
          expect(typeof answer.description).toBe('string');
        }
        // Every templated path parameter is declared, and only those.
        const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        const declared = (operation.parameters ?? [])
          .filter((p: any) => p.in === 'path')
          .map((p: any) => p.name)
          .sort();
        expect(declared).toEqual(inPath);
      }
    }
    expect([...documented].sort()).toEqual([...served].sort());
    expect(served.size).toBe(router.routes.length);

    // Every $ref resolves inside the document.
    const refs: string[] = [];
    JSON.stringify(doc, (key, value) => {
      if (key === '$ref') refs.push(value);
      return value;
    });
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.split('/').pop()!], ref).toBeDefined();
    }
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/health/live'].get.security).toEqual([]);
  });

  it('has no security requirement when the router is public', async () => {
    const { router } = setup({ auth: undefined, public: true });
    const doc = await json(await call(router, '/openapi.json'));
    expect(doc.security).toBeUndefined();
  });
});

describe('logging', () => {
  it('logs an internal error with its request id through the instance logger', async () => {
    const lines: { args: unknown[] }[] = [];
    const capture = {
      ...silent,
      error: (...args: unknown[]) => lines.push({ args }),
    };
    const enterprise = testEnterprise({ logger: capture });
    const { router } = setup({
      enterprise,
      auth: () => {
        throw new Error('hook exploded');
      },
    });
    const response = await call(router, '/info', { headers: { 'x-request-id': 'req-42' } });
    expect(response.status).toBe(500);
    const [fields] = lines.at(-1)!.args as [{ err: Error; requestId: string }];
    expect(fields.err.message).toBe('hook exploded');
    expect(fields.requestId).toBe('req-42');
  });
});

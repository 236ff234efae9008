import { afterEach, describe, expect, it } from 'vitest';
import type { Enterprise } from '../../src/index.js';
import {
  createMonitoringRouter,
  type MonitoringRouter,
  type SecurityStreamEvent,
} from '../../src/monitoring/index.js';
import type { SecurityOptions } from '../../src/security/options.js';
import type { Ban, BanStore, RateLimitStore, ScreenedRequest } from '../../src/security/types.js';
import {
  AUTH,
  call,
  closeServer,
  conforms,
  json,
  listen,
  manualClock,
  SseReader,
  TOKEN,
  testEnterprise,
  until,
} from './helpers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const JSON_AUTH = { ...AUTH, 'content-type': 'application/json' };

/** A request carrying a UNION-based SQL injection from a scanner's user agent: two threats. */
function attack(remoteAddress: string): ScreenedRequest {
  return {
    method: 'GET',
    path: '/search',
    query: "q=1'%20UNION%20SELECT%20password%20FROM%20users--",
    headers: { 'user-agent': 'sqlmap/1.7.2#stable (https://sqlmap.org)' },
    remoteAddress,
  };
}

/**
 * An instance composed by `createEnterprise` with a security module (built, as `start()` or the
 * middleware would), and a router over it.
 */
function setup(
  security: SecurityOptions = {},
  routerOptions: Parameters<typeof createMonitoringRouter>[0] = {},
  enterpriseOptions: Parameters<typeof testEnterprise>[0] = {},
) {
  const enterprise = testEnterprise({ alerts: false, security, ...enterpriseOptions });
  const router = createMonitoringRouter({ enterprise, auth: TOKEN, ...routerOptions });
  cleanup.push(async () => {
    await router.close();
    await enterprise.shutdown();
  });
  return { enterprise, router, security: enterprise.security };
}

function post(
  router: MonitoringRouter,
  path: string,
  body: unknown,
  headers: Record<string, string> = JSON_AUTH,
) {
  return call(router, path, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function openapi(router: MonitoringRouter) {
  return json(await call(router, '/openapi.json', { headers: AUTH }));
}

describe('GET /security/monitoring', () => {
  it('answers the report: score and components, threats by category and per minute, clients, logins, rate limits, bans', async () => {
    const { router, security } = setup({ rateLimit: { default: { limit: 100, window: '1m' } } });
    await security.inspect(attack('203.0.113.7'));
    for (let i = 0; i < 3; i++) {
      security.recordLogin({ userId: 'ada', ip: '198.51.100.9', success: false });
    }
    security.recordLogin({ userId: 'bob', ip: '198.51.100.10', success: true });
    await security.ban('192.0.2.0/24', '1h', 'scraping');

    const response = await call(router, '/security/monitoring', { headers: AUTH });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const report = await json(response);
    expect(report.score).toMatchObject({ threshold: 70, low: expect.any(Boolean) });
    expect(report.score.score).toBeGreaterThanOrEqual(0);
    expect(report.score.components.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['failed-logins', 'threats', 'hygiene']),
    );
    expect(report.threats.byCategory).toMatchObject({ 'sql-injection': 1, scanner: 1 });
    expect(report.threats.series).toHaveLength(60);
    expect(report.threats.series.at(-1).threats).toMatchObject({ 'sql-injection': 1 });
    expect(report.clients.top[0]).toMatchObject({ client: '203.0.113.7' });
    expect(report.logins).toMatchObject({ attempts: 4, failed: 3, succeeded: 1 });
    expect(report.logins.successRate).toBeCloseTo(0.25);
    expect(report.rateLimits.policies).toEqual([
      expect.objectContaining({ allowed: 1, refused: 0, storeDown: false }),
    ]);
    expect(report.rateLimits.pressure).toEqual({ multiplier: 1, reason: expect.any(String) });
    expect(report.bans).toEqual([
      expect.objectContaining({ client: '192.0.2.0/24', reason: 'scraping', source: 'manual' }),
    ]);

    // The document describes exactly what is sent.
    const doc = await openapi(router);
    const schema =
      doc.paths['/security/monitoring'].get.responses['200'].content['application/json'].schema;
    expect(schema).toEqual({ $ref: '#/components/schemas/SecurityReport' });
    expect(conforms(doc, report, schema)).toEqual([]);
  });

  it('lists the `top` riskiest clients, 1 to 100; anything else is a 400 naming `top`', async () => {
    const { router, security } = setup();
    for (let i = 1; i <= 4; i++) await security.inspect(attack(`203.0.113.${i}`));
    const two = await json(await call(router, '/security/monitoring?top=2', { headers: AUTH }));
    expect(two.clients.top).toHaveLength(2);
    expect(two.clients.tracked).toBe(4);
    for (const top of ['0', '101', 'ten', '-1', '1.5', '']) {
      const response = await call(router, `/security/monitoring?top=${top}`, { headers: AUTH });
      expect(response.status, top).toBe(400);
      expect((await json(response)).error).toMatchObject({ code: 'E_BAD_REQUEST', field: 'top' });
    }
  });

  it('answers 501 while the security module is not built, and does not build it', async () => {
    const enterprise = testEnterprise({ alerts: false });
    const router = createMonitoringRouter({ enterprise, auth: TOKEN });
    cleanup.push(async () => {
      await router.close();
      await enterprise.shutdown();
    });
    const answers = [
      await call(router, '/security/monitoring', { headers: AUTH }),
      await post(router, '/security/bans', { client: '203.0.113.7', duration: '1h', reason: 'x' }),
      await call(router, '/security/bans/203.0.113.7', { method: 'DELETE', headers: AUTH }),
    ];
    for (const response of answers) {
      expect(response.status).toBe(501);
      expect((await json(response)).error).toMatchObject({
        code: 'E_MODULE_NOT_ENABLED',
        message: 'the security module is not enabled on this instance',
      });
    }
    const health = await json(await call(router, '/health', { headers: AUTH }));
    expect(health.components.map((c: { name: string }) => c.name)).not.toContain('security');
    const info = await json(await call(router, '/info', { headers: AUTH }));
    expect(info.modules.security).toBe(false);
    expect(enterprise.peek('security')).toBeUndefined();

    // Once the application builds it, the same router reports it.
    enterprise.security;
    expect((await call(router, '/security/monitoring', { headers: AUTH })).status).toBe(200);
    expect((await json(await call(router, '/info', { headers: AUTH }))).modules.security).toBe(
      true,
    );
  });

  it('is behind the router auth, reads and actions alike', async () => {
    const { router, security } = setup();
    await security.ban('203.0.113.7', '1h', 'kept');
    const answers = [
      await call(router, '/security/monitoring'),
      await call(router, '/security/monitoring', { headers: { authorization: 'Bearer wrong' } }),
      await post(
        router,
        '/security/bans',
        { client: '198.51.100.1', duration: '1h', reason: 'x' },
        {
          'content-type': 'application/json',
        },
      ),
      await call(router, '/security/bans/203.0.113.7', { method: 'DELETE' }),
    ];
    for (const response of answers) expect(response.status).toBe(401);
    expect(security.bans().map((ban) => ban.client)).toEqual(['203.0.113.7']);
  });
});

describe('POST /security/bans and DELETE /security/bans/:client', () => {
  it('bans a client on the instance, as security.bans() and the report see it, then lifts it', async () => {
    const { router, security } = setup();
    const response = await post(router, '/security/bans', {
      client: '198.51.100.4',
      duration: '30m',
      reason: 'scraping the catalogue',
    });
    expect(response.status).toBe(201);
    const body = await json(response);
    expect(body).toEqual({
      ok: true,
      ban: {
        client: '198.51.100.4',
        until: expect.any(Number),
        reason: 'scraping the catalogue',
        source: 'manual',
        createdAt: expect.any(Number),
      },
    });
    expect(body.ban.until - body.ban.createdAt).toBe(30 * 60_000);
    expect(security.bans()).toEqual([body.ban]);
    const refused = await security.inspect({ ...attack('198.51.100.4'), query: '', headers: {} });
    expect(refused.refusal).toMatchObject({ status: 403, reason: 'banned' });

    // A duration in seconds; an IPv6 address is banned as its client, the /64.
    const v6 = await json(
      await post(router, '/security/bans', { client: '2001:DB8::7', duration: 600, reason: 'x' }),
    );
    expect(v6.ban.client).toBe('2001:db8::/64');
    expect(v6.ban.until - v6.ban.createdAt).toBe(600_000);
    const report = await json(await call(router, '/security/monitoring', { headers: AUTH }));
    expect(report.bans.map((ban: Ban) => ban.client).sort()).toEqual([
      '198.51.100.4',
      '2001:db8::/64',
    ]);

    // The client is URL-encoded in the path: `/` as %2F.
    const lifted = await call(router, '/security/bans/2001:db8::%2F64', {
      method: 'DELETE',
      headers: AUTH,
    });
    expect(lifted.status).toBe(200);
    expect(await json(lifted)).toEqual({ ok: true, client: '2001:db8::/64', removed: true });
    const again = await call(router, '/security/bans/2001:db8::%2F64', {
      method: 'DELETE',
      headers: AUTH,
    });
    expect(await json(again)).toEqual({ ok: true, client: '2001:db8::/64', removed: false });
    expect(security.bans().map((ban) => ban.client)).toEqual(['198.51.100.4']);
    await call(router, '/security/bans/198.51.100.4', { method: 'DELETE', headers: AUTH });
    expect(security.bans()).toEqual([]);
  });

  it.each([
    ['a missing client', { duration: '1h', reason: 'x' }, 'client'],
    ['a client that is not an address', { client: 'bob', duration: '1h', reason: 'x' }, 'client'],
    ['an invalid CIDR', { client: '10.0.0.0/33', duration: '1h', reason: 'x' }, 'client'],
    ['a client of another type', { client: 42, duration: '1h', reason: 'x' }, 'client'],
    ['a missing duration', { client: '203.0.113.7', reason: 'x' }, 'duration'],
    [
      'a duration without meaning',
      { client: '203.0.113.7', duration: 'forever', reason: 'x' },
      'duration',
    ],
    ['a zero duration', { client: '203.0.113.7', duration: 0, reason: 'x' }, 'duration'],
    ['a negative duration', { client: '203.0.113.7', duration: '-5m', reason: 'x' }, 'duration'],
    ['a missing reason', { client: '203.0.113.7', duration: '1h' }, 'reason'],
    ['a blank reason', { client: '203.0.113.7', duration: '1h', reason: '  ' }, 'reason'],
    [
      'a reason too long',
      { client: '203.0.113.7', duration: '1h', reason: 'x'.repeat(501) },
      'reason',
    ],
    ['a body that is not JSON', '{"client":', 'body'],
    ['a JSON array', '[]', 'body'],
  ])('refuses %s with a 400 naming the field', async (_what, body, field) => {
    const { router, security } = setup();
    const response = await post(router, '/security/bans', body);
    expect(response.status).toBe(400);
    expect((await json(response)).error).toMatchObject({ code: 'E_BAD_REQUEST', field });
    expect(security.bans()).toEqual([]);
  });

  it('refuses an action sent from another site, as every action of the router', async () => {
    const { router, security } = setup();
    const crossSite = await post(
      router,
      '/security/bans',
      { client: '203.0.113.7', duration: '1h', reason: 'x' },
      { ...JSON_AUTH, 'sec-fetch-site': 'cross-site' },
    );
    expect(crossSite.status).toBe(403);
    const otherOrigin = await call(router, '/security/bans/203.0.113.7', {
      method: 'DELETE',
      headers: { ...AUTH, origin: 'https://evil.example' },
    });
    expect(otherOrigin.status).toBe(403);
    const sameOrigin = await post(
      router,
      '/security/bans',
      { client: '203.0.113.7', duration: '1h', reason: 'x' },
      { ...JSON_AUTH, 'sec-fetch-site': 'same-origin', origin: 'http://monitoring.test' },
    );
    expect(sameOrigin.status).toBe(201);
    expect(security.bans()).toHaveLength(1);
  });

  it('is in the OpenAPI document with its body and answers', async () => {
    const { router } = setup();
    const doc = await openapi(router);
    expect(doc.paths['/security/bans'].post).toMatchObject({
      operationId: 'banClient',
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/BanInput' } } },
      },
    });
    expect(Object.keys(doc.paths['/security/bans'].post.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '501']),
    );
    expect(doc.paths['/security/bans/{client}'].delete.parameters).toEqual([
      { name: 'client', in: 'path', required: true, schema: { type: 'string' } },
    ]);
    expect(doc.paths['/security/monitoring'].get.parameters).toEqual([
      expect.objectContaining({
        name: 'top',
        in: 'query',
        schema: expect.objectContaining({ minimum: 1, maximum: 100 }),
      }),
    ]);
    for (const name of ['SecurityReport', 'Ban', 'BanInput', 'SecuritySnapshot']) {
      expect(doc.components.schemas[name], name).toMatchObject({ type: 'object' });
    }
    expect(doc.components.schemas.MonitoringSnapshot.properties.security).toBeDefined();
    const ban = await json(
      await post(router, '/security/bans', { client: '203.0.113.7', duration: '1h', reason: 'x' }),
    );
    expect(conforms(doc, ban, { $ref: '#/components/schemas/BanResult' })).toEqual([]);
  });
});

describe('the security module as the router reports it elsewhere', () => {
  it('exposes the security series in /metrics under the instance prefix', async () => {
    const { router, security } = setup(
      {},
      {},
      { performance: { prometheus: { prefix: 'shop_' } } },
    );
    await security.inspect(attack('203.0.113.7'));
    security.recordLogin({ userId: 'ada', ip: '198.51.100.9', success: false });
    await post(router, '/security/bans', { client: '198.51.100.1', duration: '1h', reason: 'x' });
    const text = await (await call(router, '/metrics', { headers: AUTH })).text();
    expect(text).toContain('# TYPE shop_security_threats_total counter');
    expect(text).toContain('shop_security_threats_total{category="sql-injection"} 1');
    expect(text).toContain('shop_security_threats_total{category="scanner"} 1');
    expect(text).toContain('shop_security_logins_total{outcome="failure"} 1');
    expect(text).toContain('shop_security_bans_total 1');
    expect(text).toContain('shop_security_bans_active 1');
    expect(text).toMatch(/^shop_security_score \d+(\.\d+)?$/m);
    expect(text).toContain('# TYPE shop_security_rate_limit_decisions_total counter');
  });

  it('tells the score whether the monitoring endpoints are protected', async () => {
    const secured = setup();
    await call(secured.router, '/health/live');
    expect(secured.security.scoreInputs().config?.monitoringProtected).toBe(true);

    const open = setup({}, { auth: undefined, public: true });
    await call(open.router, '/health/live');
    expect(open.security.scoreInputs().config?.monitoringProtected).toBe(false);
    const hygiene = open.security
      .score()
      .components.find((component) => component.name === 'hygiene');
    expect(hygiene?.value).toBe(0);
    expect(hygiene?.detail).toContain('monitoring protected');
  });

  it('has a health component: ok, degraded while a store fails (requests still served)', async () => {
    let failing = false;
    const fail = async () => {
      if (failing) throw new Error('store unreachable');
    };
    const bans = new Map<string, Ban>();
    const banStore: BanStore = {
      put: async (ban) => {
        await fail();
        bans.set(ban.client, ban);
      },
      delete: async (client) => {
        await fail();
        return bans.delete(client);
      },
      list: async () => {
        await fail();
        return [...bans.values()];
      },
    };
    const rateLimitStore: RateLimitStore = {
      consume: async (_key, { limit }) => {
        await fail();
        return { allowed: true, limit, remaining: limit - 1, resetMs: 60_000, retryAfterMs: 0 };
      },
      reset: fail,
    };
    const { router, security } = setup(
      {
        bans: { store: banStore, refreshMs: 60_000 },
        rateLimit: { store: rateLimitStore, default: { limit: 100, window: '1m' } },
      },
      { health: { cacheMs: 0 } },
    );
    const component = async () => {
      const body = await json(await call(router, '/health', { headers: AUTH }));
      return {
        status: body.status,
        security: body.components.find((c: { name: string }) => c.name === 'security'),
      };
    };
    expect(await component()).toMatchObject({
      status: 'ok',
      security: { status: 'ok', critical: false },
    });

    failing = true;
    const verdict = await security.inspect({ ...attack('203.0.113.9'), query: '', headers: {} });
    expect(verdict.refusal).toBeUndefined();
    await security.ban('198.51.100.7', '1h', 'while the store is down');
    const down = await component();
    expect(down.status).toBe('degraded');
    expect(down.security).toMatchObject({
      status: 'degraded',
      critical: false,
      details: { rateLimitStoresDown: [expect.any(String)], banStoreDown: true },
    });
    expect(down.security.message).toContain('rate-limit store failing');
    expect(down.security.message).toContain('ban store');
  });
});

describe('a failing security store as an alert', () => {
  it('fires the built-in SecurityStoreDown from the degraded health component', async () => {
    const clock = manualClock();
    let failing = false;
    const banStore: BanStore = {
      put: async () => {
        if (failing) throw new Error('store unreachable');
      },
      delete: async () => false,
      list: async () => [],
    };
    const enterprise = testEnterprise({
      security: { bans: { store: banStore, refreshMs: 60_000 } },
      alerts: { store: 'memory', deliver: () => {}, clock },
    });
    cleanup.push(() => enterprise.shutdown());
    const { security, alerts } = enterprise;
    const state = () =>
      alerts
        .list({ state: ['inactive', 'pending', 'firing', 'resolved', 'nodata'] })
        .find((alert) => alert.rule === 'SecurityStoreDown')?.state;
    await alerts.evaluate();
    expect(state()).toBe('inactive');

    failing = true;
    await security.ban('198.51.100.7', '1h', 'while the store is down');
    expect(security.storeDown().bans).toBe(true);
    // The health checks behind `health.status` keep a result for a second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    clock.advance(15_000);
    await alerts.evaluate();
    expect(state()).toBe('pending');
    clock.advance(61_000);
    await alerts.evaluate();
    const alert = alerts.list().find((a) => a.rule === 'SecurityStoreDown');
    expect(alert).toMatchObject({
      state: 'firing',
      severity: 'warning',
      labels: { component: 'security' },
    });
    // HealthComponentDown fires on down only: a degraded store is not that.
    expect(alerts.list().map((a) => a.rule)).not.toContain('HealthComponentDown');
  });
});

describe('the real-time stream', () => {
  async function serve(enterprise: Enterprise) {
    const router = createMonitoringRouter({ enterprise, auth: TOKEN, realtimeIntervalMs: 100 });
    const { server, url } = await listen(router);
    cleanup.push(async () => {
      await router.close();
      await closeServer(server);
      await enterprise.shutdown();
    });
    const controller = new AbortController();
    const response = await fetch(`${url}/performance/realtime`, {
      headers: AUTH,
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = new SseReader(response.body!);
    cleanup.push(async () => {
      controller.abort();
      await reader.finished;
    });
    const events = () =>
      reader.events
        .filter((event) => event.event === 'security')
        .map((event) => JSON.parse(event.data!) as SecurityStreamEvent);
    return { router, reader, events, abort: () => controller.abort() };
  }

  it('sends threats, bans and unbans as `event: security`, at most 10 a second with the rest counted', async () => {
    const enterprise = testEnterprise({ alerts: false, security: {} });
    const security = enterprise.security;
    const { router, reader, events, abort } = await serve(enterprise);
    await until(() => reader.snapshots().length >= 1);
    // Not started: the module has not evaluated its score yet.
    expect(reader.snapshots()[0]!.security).toEqual({
      enabled: true,
      score: null,
      threats: 0,
      rateLimited: 0,
      blocked: 0,
      activeBans: 0,
      storeDown: false,
    });
    expect(security.listenerCount('threat')).toBe(1);

    // An attack: 30 requests, two threats each, within a few milliseconds.
    let threats = 0;
    security.on('threat', () => threats++);
    for (let i = 0; i < 30; i++) await security.inspect(attack(`203.0.113.${i + 1}`));
    expect(threats).toBe(60);
    await until(() => events().some((event) => event.kind === 'dropped'), 3_000);
    const sent = events().filter((event) => event.kind === 'threat');
    expect(sent.length).toBeLessThanOrEqual(10);
    expect(sent[0]).toMatchObject({
      kind: 'threat',
      threat: { category: expect.any(String), client: '203.0.113.1', rule: expect.any(String) },
    });
    const dropped = events().find((event) => event.kind === 'dropped') as Extract<
      SecurityStreamEvent,
      { kind: 'dropped' }
    >;
    const offered = events().filter((event) => event.kind !== 'dropped').length + dropped.dropped;
    expect(offered).toBeGreaterThanOrEqual(60);
    expect(sent.length + (dropped.byKind.threat ?? 0)).toBe(60);
    const droppedThreats = Object.values(dropped.threats).reduce((a, b) => a + (b ?? 0), 0);
    expect(droppedThreats).toBe(dropped.byKind.threat);
    // Not numbered: the ids stay those of the snapshots.
    expect(
      reader.events.filter((e) => e.event === 'security').every((e) => e.id === undefined),
    ).toBe(true);

    // The next second has a fresh budget: a ban and its lifting go through.
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    await security.ban('198.51.100.200', '1h', 'from the test');
    await security.unban('198.51.100.200');
    await until(() => events().some((event) => event.kind === 'unban'));
    expect(events()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'ban',
          ban: expect.objectContaining({ client: '198.51.100.200' }),
        }),
        { kind: 'unban', at: expect.any(Number), client: '198.51.100.200', reason: 'manual' },
      ]),
    );
    await until(() => (reader.snapshots().at(-1)?.security?.threats ?? 0) === 60);

    // The document describes the events and the snapshot section as sent.
    const doc = await openapi(router);
    for (const event of events()) {
      expect(conforms(doc, event, { $ref: '#/components/schemas/SecurityStreamEvent' })).toEqual(
        [],
      );
    }
    const section = reader.snapshots().at(-1)!.security;
    expect(conforms(doc, section, { $ref: '#/components/schemas/SecuritySnapshot' })).toEqual([]);

    // The listeners go with the last stream.
    abort();
    await until(() => router.realtimeStatus().streams === 0);
    expect(security.listenerCount('threat')).toBe(1); // the test's own
    expect(security.listenerCount('ban')).toBe(0);
  });

  it('reports the module as not enabled in snapshots until it is built, then streams its events', async () => {
    const enterprise = testEnterprise({ alerts: false });
    const { reader, events } = await serve(enterprise);
    await until(() => reader.snapshots().length >= 1);
    expect(reader.snapshots()[0]!.security).toMatchObject({ enabled: false, score: null });
    expect(enterprise.peek('security')).toBeUndefined();
    const security = enterprise.security;
    await until(() => security.listenerCount('threat') === 1);
    await security.inspect(attack('203.0.113.50'));
    await until(() => events().filter((event) => event.kind === 'threat').length === 2);
    await until(() => reader.snapshots().at(-1)?.security?.enabled === true);
  });
});

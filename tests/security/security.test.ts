import { afterEach, describe, expect, it, vi } from 'vitest';
import { functionChannel } from '../../src/alerts/channels/function.js';
import type { AlertNotification } from '../../src/alerts/types.js';
import { createEnterprise, type Enterprise, type EnterpriseOptions } from '../../src/index.js';
import type { SystemMetricsSnapshot } from '../../src/performance/types.js';
import {
  compileRouteLimits,
  type LimitChange,
  type ScreenedRequest,
  Security,
  SecurityConfigError,
  type SecurityOptions,
  type ThreatEvent,
} from '../../src/security/index.js';
import { securityMetricFamilies, securityReport } from '../../src/security/report.js';

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {} };
const quietLogger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quietLogger };
const open: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((item) => item.close()));
});

function security(options: SecurityOptions = {}): Security {
  const module = new Security({ logger: quietLogger, ...options });
  open.push(module);
  return module;
}

function instance(options: EnterpriseOptions = {}): Enterprise {
  const enterprise = createEnterprise({ logger: silent, env: {}, ...options });
  open.push({ close: () => enterprise.shutdown() });
  return enterprise;
}

function request(overrides: Partial<ScreenedRequest> = {}): ScreenedRequest {
  return {
    method: 'GET',
    path: '/products/42',
    query: 'page=2&sort=price',
    headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0', accept: 'text/html' },
    remoteAddress: '203.0.113.7',
    ...overrides,
  };
}

const SQLI = "q=1' UNION SELECT password FROM users--";

describe('Security: one request', () => {
  it('lets an ordinary request through with no findings and no headers without limits', async () => {
    const verdict = await security().inspect(request());
    expect(verdict).toEqual({
      client: '203.0.113.7',
      threats: [],
      headers: undefined,
      refusal: undefined,
    });
  });

  it('reports a finding in detect mode, refuses it with a 403 in block mode', async () => {
    const detect = security();
    const seen: ThreatEvent[] = [];
    detect.on('threat', (threat) => seen.push(threat));
    const allowed = await detect.inspect(request({ query: SQLI, correlationId: 'req-1' }));
    expect(allowed.refusal).toBeUndefined();
    expect(seen).toEqual([
      expect.objectContaining({
        category: 'sql-injection',
        correlationId: 'req-1',
        blocked: false,
      }),
    ]);

    const refused = await security({ mode: 'block' }).inspect(request({ query: SQLI }));
    expect(refused.refusal).toMatchObject({
      status: 403,
      reason: 'threat',
      body: { code: 'E_FORBIDDEN', category: 'sql-injection' },
    });
  });

  it('refuses banned and denied clients, CIDR ranges included, and lets the allow list through', async () => {
    const module = security({ clients: { deny: ['192.0.2.0/24'], allow: ['198.51.100.1'] } });
    expect((await module.inspect(request({ remoteAddress: '192.0.2.200' }))).refusal).toMatchObject(
      {
        status: 403,
        reason: 'denied',
      },
    );
    await module.ban('10.1.0.0/16', '1h', 'scraping');
    expect((await module.inspect(request({ remoteAddress: '10.1.2.3' }))).refusal).toMatchObject({
      status: 403,
      reason: 'banned',
    });
    await module.ban('198.51.100.1', '1h', 'allow-listed anyway');
    expect(
      (await module.inspect(request({ remoteAddress: '198.51.100.1' }))).refusal,
    ).toBeUndefined();
    expect(await module.unban('10.1.0.0/16')).toBe(true);
    expect((await module.inspect(request({ remoteAddress: '10.1.2.3' }))).refusal).toBeUndefined();
  });

  it('applies the default limit and the route limits, with RateLimit headers and a 429 body', async () => {
    const module = security({ rateLimit: { default: { limit: 100, window: '1m' } } });
    const limits = compileRouteLimits([
      { name: 'login', path: '/login', methods: ['POST'], limit: 2, window: '1m' },
    ]);
    const login = request({ method: 'POST', path: '/login', query: '' });
    const first = await module.inspect(login, limits);
    expect(first.headers).toEqual({
      'RateLimit-Policy': '"login";q=2;w=60',
      RateLimit: expect.stringMatching(/^"login";r=1;t=\d+$/),
    });
    await module.inspect(login, limits);
    const limited: unknown[] = [];
    module.on('rate-limited', (event) => limited.push(event));
    const third = await module.inspect(login, limits);
    expect(third.refusal).toMatchObject({
      status: 429,
      reason: 'rate-limit',
      headers: {
        'content-type': 'application/problem+json',
        'Retry-After': expect.stringMatching(/^\d+$/),
      },
      body: { code: 'E_RATE_LIMITED', 'violated-policies': ['login'] },
    });
    expect(limited).toEqual([expect.objectContaining({ client: '203.0.113.7', policy: 'login' })]);
    // Other routes only count against the default limit.
    expect((await module.inspect(request(), limits)).headers?.['RateLimit-Policy']).toBe(
      '"default";q=100;w=60',
    );
  });

  it('keys by the socket address: X-Forwarded-For counts only through a trusted proxy', async () => {
    const spoofed = request({
      headers: { 'x-forwarded-for': '1.2.3.4' },
      remoteAddress: '10.0.0.5',
    });
    expect((await security().inspect(spoofed)).client).toBe('10.0.0.5');
    const trusting = security({ clientKey: { trustProxy: ['10.0.0.0/8'] } });
    expect((await trusting.inspect(spoofed)).client).toBe('1.2.3.4');
  });

  it('counts auth bursts from the responses it is told about', async () => {
    const module = security({ screening: { authBurst: { threshold: 5, window: '10s' } } });
    const seen: ThreatEvent[] = [];
    module.on('threat', (threat) => seen.push(threat));
    for (let i = 0; i < 5; i++) {
      module.observe(await module.inspect(request({ path: `/admin/${i}` })), 404);
    }
    expect(seen.map((threat) => threat.category)).toEqual(['auth-burst']);
  });
});

describe('Security: dynamic thresholds', () => {
  it('tightens the limits of a risky client in steps, each an event, and relaxes them back', async () => {
    let now = Date.UTC(2026, 0, 1);
    const clock = { now: () => now, epochNow: () => now };
    const module = security({
      clock,
      rateLimit: { default: { limit: 100, window: '1m' } },
      dynamic: { pressure: false },
    });
    const changes: LimitChange[] = [];
    module.on('limits', (change) => changes.push(change));
    const attacker = request({ query: SQLI, remoteAddress: '198.51.100.66' });
    for (let i = 0; i < 6; i++) await module.inspect(attacker);
    const risk = module.clients.risk.score('198.51.100.66');
    expect(risk).toBeGreaterThan(30);
    const verdict = await module.inspect(request({ remoteAddress: '198.51.100.66' }));
    // The policy header carries the limit in force for this client (the draft's reduced quota).
    const quota = Number(/q=(\d+)/.exec(verdict.headers!['RateLimit-Policy']!)![1]);
    expect(quota).toBeLessThan(100);
    expect(changes.at(-1)).toMatchObject({ scope: 'client', client: '198.51.100.66' });
    expect(changes.at(-1)!.multiplier).toBeLessThan(1);
    // An ordinary client is untouched.
    const other = await module.inspect(request({ remoteAddress: '203.0.113.9' }));
    expect(other.headers?.RateLimit).toMatch(/r=99;/);
    // Risk decays: a day later the client is back to the full limit, and that is an event too.
    now += 24 * 3_600_000;
    await module.inspect(request({ remoteAddress: '198.51.100.66' }));
    expect(changes.at(-1)).toMatchObject({ scope: 'client', multiplier: 1 });
  });

  it('tightens every limit while the service is under pressure, and relaxes after a calm period', async () => {
    vi.useFakeTimers();
    try {
      let delay = 20;
      const system = () =>
        ({
          cpu: { percent: 10 },
          eventLoop: { delayP99Ms: delay },
        }) as unknown as SystemMetricsSnapshot;
      const module = security({
        system,
        score: { intervalMs: 1_000 },
        rateLimit: { default: { limit: 10, window: '1m' } },
        dynamic: { risk: false, pressure: { relaxAfter: '10s' } },
      });
      const changes: LimitChange[] = [];
      module.on('limits', (change) => changes.push(change));
      await module.start();
      delay = 450;
      await vi.advanceTimersByTimeAsync(1_100);
      expect(changes).toEqual([
        expect.objectContaining({ scope: 'service', multiplier: 0.5, previous: 1 }),
      ]);
      expect(changes[0]!.reason).toMatch(/event loop p99 450 ms > 200 ms/);
      const verdict = await module.inspect(request());
      expect(verdict.headers?.RateLimit).toMatch(/r=4;/);
      delay = 5;
      await vi.advanceTimersByTimeAsync(5_000);
      expect(changes).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(6_000);
      expect(changes.at(-1)).toMatchObject({
        scope: 'service',
        multiplier: 1,
        reason: 'back to normal',
      });
      expect(securityReport(module).rateLimits.pressure).toEqual({
        multiplier: 1,
        reason: 'normal',
      });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('Security: logins and the score', () => {
  it('records logins, detects brute force, and refuses a login without a user id', () => {
    const module = security();
    const seen: ThreatEvent[] = [];
    module.on('threat', (threat) => seen.push(threat));
    for (let i = 0; i < 12; i++) {
      module.recordLogin({ userId: 'ada', ip: `198.51.100.${i}`, success: false });
    }
    expect(seen.map((threat) => threat.category)).toContain('brute-force');
    expect(module.logins.stats()).toMatchObject({ attempts: 12, failed: 12 });
    expect(() => module.recordLogin({ userId: '', ip: '1.2.3.4', success: true })).toThrow(
      SecurityConfigError,
    );
  });

  it('scores a quiet window near 100 and an attack below 70, once per crossing', async () => {
    const module = security({ screening: { authBurst: false } });
    for (let i = 0; i < 200; i++)
      await module.inspect(request({ remoteAddress: `203.0.113.${i % 50}` }));
    expect(module.score().score).toBeGreaterThan(95);
    const low: number[] = [];
    module.on('score-low', ({ score }) => low.push(score));
    for (let i = 0; i < 40; i++) {
      await module.inspect(request({ query: SQLI, remoteAddress: '198.51.100.7' }));
      module.recordLogin({ userId: `user${i}`, ip: '198.51.100.7', success: false });
    }
    const result = module.score();
    expect(result.score).toBeLessThan(70);
    expect(result.low).toBe(true);
    module.score();
    expect(low).toHaveLength(1);
  });

  it('exposes its figures as Prometheus families, declared before it exists', async () => {
    expect(securityMetricFamilies('app_', undefined).map((family) => family.name)).toEqual([
      'app_security_threats_total',
      'app_security_logins_total',
      'app_security_rate_limit_decisions_total',
      'app_security_bans_total',
      'app_security_bans_active',
      'app_security_score',
    ]);
    const module = security();
    await module.inspect(request({ query: SQLI }));
    module.recordLogin({ userId: 'ada', ip: '1.2.3.4', success: false });
    const families = securityMetricFamilies('app_', module);
    const samples = Object.fromEntries(
      families.flatMap((family) =>
        family.samples.map((s) => [`${s.name}${JSON.stringify(s.labels)}`, s.value]),
      ),
    );
    expect(samples['app_security_threats_total{"category":"sql-injection"}']).toBe(1);
    expect(samples['app_security_logins_total{"outcome":"failure"}']).toBe(1);
  });
});

describe('Security: bad options', () => {
  it.each([
    [{ mode: 'audit' }, 'mode'],
    [{ rateLimit: { default: { limit: 0, window: '1m' } } }, 'limit'],
    [{ rateLimit: { store: 'redis' } }, 'rateLimit.store'],
    [{ clients: { deny: ['10.0.0.0/33'] } }, 'deny'],
    [{ clientKey: { trustProxy: ['not-an-address'] } }, 'trustProxy'],
    [{ dynamic: { risk: { from: 80, to: 20 } } }, 'dynamic.risk.to'],
    [{ score: { window: '10s' } }, 'score.window'],
  ] as [SecurityOptions, string][])('refuses %j, naming the field', (options, field) => {
    let error: unknown;
    try {
      new Security({ logger: quietLogger, ...options }).close();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SecurityConfigError);
    expect((error as SecurityConfigError).context?.field).toContain(field);
  });

  it('refuses route limits that cannot work', () => {
    expect(() => compileRouteLimits([{ path: 'login', limit: 1, window: '1m' }])).toThrow(
      /rateLimits\[0\]\.path/,
    );
    expect(() =>
      compileRouteLimits([
        { name: 'a', limit: 1, window: '1m' },
        { name: 'a', limit: 2, window: '1m' },
      ]),
    ).toThrow(/rateLimits\[1\]\.name/);
    expect(() => compileRouteLimits([{ limit: 1, window: '1m', cost: 0 }])).toThrow(/cost/);
  });
});

describe('the security of an instance', () => {
  it('is built on first use only, and by start() when configured', async () => {
    const plain = instance();
    await plain.start();
    expect(plain.peek('security')).toBeUndefined();
    const configured = instance({ security: { mode: 'block' }, alerts: false });
    await configured.start();
    expect(configured.peek('security')?.mode).toBe('block');
    expect(configured.peek('security')?.state).toBe('started');
  });

  it('refuses bad security options when the instance is created', () => {
    expect(() => instance({ security: { mode: 'nope' as never } })).toThrow(SecurityConfigError);
    expect(() =>
      instance({ security: { rateLimit: { default: { limit: -1, window: '1m' } } } }),
    ).toThrow(/limit/);
  });

  it('raises SecurityScoreLow through the alerts when the score falls below the threshold', async () => {
    const received: AlertNotification[] = [];
    const enterprise = instance({
      security: { screening: { authBurst: false }, score: { threshold: 80 } },
      alerts: {
        builtin: {
          slowRequests: false,
          errorRateSpike: false,
          eventLoopBlocked: false,
          memoryExhaustion: false,
          healthDown: false,
          securityScoreLow: { for: 0 },
        },
        route: { groupWait: 0 },
        channels: [functionChannel('ops', (notification) => void received.push(notification))],
      },
    });
    await enterprise.start();
    const rule = enterprise.alerts.rules().find((r) => r.name === 'SecurityScoreLow');
    expect(rule?.definition.condition).toEqual({ below: 80 });
    const security = enterprise.security;
    for (let i = 0; i < 40; i++) {
      await security.inspect(request({ query: SQLI, remoteAddress: '198.51.100.7' }));
    }
    await enterprise.alerts.evaluate();
    await vi.waitFor(() =>
      expect(received.map((n) => [n.kind, n.alerts?.[0]?.rule ?? n.title])).toContainEqual([
        'firing',
        expect.stringContaining('SecurityScoreLow'),
      ]),
    );
  });
});

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import { MemoryRateLimitStore } from '../../src/security/rate-limit/index.js';
import type { RouteRateLimit } from '../../src/security/route-limits.js';
import type { RateLimitStore, ThreatEvent } from '../../src/security/types.js';
import { type RecordingLogger, recordingLogger } from '../support/test-doubles.js';
import type { AdapterHarness, HostApp } from './suite.js';

/**
 * The middleware's `security` option, as every adapter must honour it: each host application of
 * the shared suite (with its `POST /login` route) is started with the option on, over two
 * instances: mode `block` with its limits decided in memory (synchronously), and mode `detect`
 * with an asynchronous store, so that every adapter also waits for a verdict before routing.
 */

const SQL_INJECTION = encodeURIComponent("1' UNION SELECT password FROM users--");
const rateLimits: RouteRateLimit[] = [
  { name: 'login', path: '/login', methods: ['POST'], limit: 2, window: '1m' },
];

/** A store that answers on a later tick, as a remote one would. */
function asyncStore(): RateLimitStore {
  const memory = new MemoryRateLimitStore();
  return {
    consume: async (key, options) => {
      await new Promise((resolve) => setImmediate(resolve));
      return memory.consume(key, options);
    },
    reset: (key) => memory.reset(key),
  };
}

function securedEnterprise(mode: 'block' | 'detect', store?: RateLimitStore) {
  const logger = recordingLogger();
  const enterprise = createEnterprise({
    logger,
    performance: { systemMetrics: false },
    alerts: false,
    security: {
      mode,
      // Limits as configured, whatever the client's risk after the attacks the tests send.
      dynamic: false,
      rateLimit: { default: { limit: 1000, window: '1m' }, ...(store ? { store } : {}) },
    },
  });
  return { enterprise, logger };
}

/** `http.request` label sets recorded so far. */
function httpLabels(enterprise: Enterprise) {
  return enterprise.performance
    .operations()
    .filter((op) => op.name === 'http.request')
    .map((op) => op.labels);
}

async function login(app: HostApp, headers: Record<string, string> = {}) {
  return fetch(`${app.url}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{}',
  });
}

/** The rate limit cases, the same whichever way the limits are decided. */
function describeRouteLimits(host: () => { app: HostApp }) {
  it('answers an allowed request with its RateLimit headers', async () => {
    const { app } = host();
    const response = await fetch(`${app.url}/users/1`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    expect(response.headers.get('ratelimit-policy')).toBe('"default";q=1000;w=60');
    expect(response.headers.get('ratelimit')).toMatch(/^"default";r=\d+;t=\d+$/);
    expect(response.headers.get('retry-after')).toBeNull();
  });

  it('refuses the third POST /login within a minute (2/min) with a 429 problem+json', async () => {
    const { app } = host();
    for (let i = 0; i < 2; i++) {
      const allowed = await login(app);
      expect(allowed.status, `login ${i + 1}`).toBe(200);
      expect(await allowed.json()).toEqual({ ok: true });
      expect(allowed.headers.get('ratelimit-policy')).toBe('"login";q=2;w=60');
      expect(allowed.headers.get('ratelimit')).toMatch(/^"login";r=\d;t=\d+$/);
    }
    const refused = await login(app);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.headers.get('ratelimit-policy')).toBe('"login";q=2;w=60');
    expect(refused.headers.get('ratelimit')).toMatch(/^"login";r=0;t=\d+$/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('x-request-id')).toBeTruthy();
    expect(await refused.json()).toMatchObject({
      status: 429,
      code: 'E_RATE_LIMITED',
      'violated-policies': ['login'],
    });
    // Other routes are not under that limit.
    const other = await fetch(`${app.url}/users/2`);
    expect(other.status).toBe(200);
    await other.arrayBuffer();
  });
}

export function describeAdapterSecurity(harness: AdapterHarness): void {
  const prefix = '/api/v1/monitoring';

  describe("security option, mode 'block', limits decided in memory", () => {
    let app: HostApp;
    let enterprise: Enterprise;
    let logger: RecordingLogger;
    beforeAll(async () => {
      ({ enterprise, logger } = securedEnterprise('block'));
      app = await harness.start({
        enterprise,
        prefix,
        auth: 'test-token-0123456789',
        security: { rateLimits },
      });
    });
    afterAll(async () => {
      await app?.close();
      await enterprise?.shutdown();
    });

    describeRouteLimits(() => ({ app }));

    it('refuses a SQL-injection query with a 403 JSON body, the route not run, the request recorded', async () => {
      const response = await fetch(`${app.url}/users/9?q=${SQL_INJECTION}`, {
        headers: { 'x-request-id': 'sqli-block-1' },
      });
      expect(response.status).toBe(403);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(response.headers.get('x-request-id')).toBe('sqli-block-1');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const body = (await response.json()) as Record<string, unknown>;
      // The handler would have answered { id, correlationId }.
      expect(body).toMatchObject({
        code: 'E_FORBIDDEN',
        reason: 'threat',
        category: 'sql-injection',
      });
      expect(body).not.toHaveProperty('id');
      await vi.waitFor(
        () => {
          const refused = httpLabels(enterprise).filter(
            (labels) => labels.method === 'GET' && labels.status_class === '4xx',
          );
          // `unmatched`, or the template where the framework routes before the middleware runs.
          expect(refused.map((labels) => labels.route)).toEqual(
            expect.arrayContaining([expect.stringMatching(/^(unmatched|\/users\/:id)$/)]),
          );
        },
        { timeout: 2000, interval: 10 },
      );
      const line = await vi.waitFor(
        () => {
          const found = logger.calls.find((call) => call.fields.correlationId === 'sqli-block-1');
          if (found === undefined) throw new Error('no request line yet');
          return found;
        },
        { timeout: 2000, interval: 10 },
      );
      expect(line.fields.status).toBe(403);
    });

    it('reports each response to the module once it is sent', async () => {
      const security = enterprise.security;
      const observe = vi.spyOn(security, 'observe');
      try {
        const response = await fetch(`${app.url}/users/3`);
        await response.arrayBuffer();
        await vi.waitFor(() => {
          expect(observe).toHaveBeenCalledWith(
            expect.objectContaining({ client: '127.0.0.1', refusal: undefined }),
            200,
          );
        });
      } finally {
        observe.mockRestore();
      }
    });

    it('refuses a banned client with a 403, and X-Forwarded-For (no trusted proxy) changes nothing', async () => {
      const security = enterprise.security;
      // The forwarded address is banned: the request, really from 127.0.0.1, still passes.
      await security.ban('203.0.113.50', '1h', 'test');
      try {
        const spoofedBanned = await fetch(`${app.url}/users/4`, {
          headers: { 'x-forwarded-for': '203.0.113.50', forwarded: 'for=203.0.113.50' },
        });
        expect(spoofedBanned.status).toBe(200);
        await spoofedBanned.arrayBuffer();
      } finally {
        await security.unban('203.0.113.50');
      }
      // The real address is banned: no forwarded address gets it through.
      await security.ban('127.0.0.1', '1h', 'test');
      try {
        for (const headers of [{}, { 'x-forwarded-for': '198.51.100.7' }] as Record<
          string,
          string
        >[]) {
          const banned = await fetch(`${app.url}/users/5`, { headers });
          expect(banned.status).toBe(403);
          expect(await banned.json()).toMatchObject({ code: 'E_FORBIDDEN', reason: 'banned' });
        }
      } finally {
        await security.unban('127.0.0.1');
      }
      const again = await fetch(`${app.url}/users/6`);
      expect(again.status).toBe(200);
      await again.arrayBuffer();
    });

    it('lets the request through when the security module fails, and says so in the log', async () => {
      const security = enterprise.security;
      const inspect = vi.spyOn(security, 'inspect').mockImplementation(() => {
        throw new Error('inspection broke');
      });
      try {
        const response = await fetch(`${app.url}/users/7?q=${SQL_INJECTION}`);
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        inspect.mockImplementation(() => Promise.reject(new Error('inspection rejected')));
        const rejected = await fetch(`${app.url}/users/8`);
        expect(rejected.status).toBe(200);
        await rejected.arrayBuffer();
      } finally {
        inspect.mockRestore();
      }
      expect(
        logger.calls.filter((call) => call.message?.startsWith('security: the request was not')),
      ).toHaveLength(1);
    });
  });

  describe("security option, mode 'detect', limits decided by an asynchronous store", () => {
    let app: HostApp;
    let enterprise: Enterprise;
    beforeAll(async () => {
      ({ enterprise } = securedEnterprise('detect', asyncStore()));
      app = await harness.start({
        enterprise,
        prefix,
        auth: 'test-token-0123456789',
        security: { rateLimits },
      });
    });
    afterAll(async () => {
      await app?.close();
      await enterprise?.shutdown();
    });

    describeRouteLimits(() => ({ app }));

    it('lets a SQL-injection query through and reports the threat with the request id', async () => {
      const threats: ThreatEvent[] = [];
      const listener = (threat: ThreatEvent) => threats.push(threat);
      enterprise.security.on('threat', listener);
      try {
        const response = await fetch(`${app.url}/users/9?q=${SQL_INJECTION}`, {
          headers: { 'x-request-id': 'sqli-detect-1' },
        });
        expect(response.status).toBe(200);
        expect(await response.json()).toMatchObject({ id: '9', correlationId: 'sqli-detect-1' });
      } finally {
        enterprise.security.off('threat', listener);
      }
      expect(threats).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            category: 'sql-injection',
            correlationId: 'sqli-detect-1',
            client: '127.0.0.1',
            blocked: false,
          }),
        ]),
      );
    });
  });
}

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { enterpriseMiddleware as expressMiddleware } from '../../src/adapters/express.js';
import { enterprisePlugin } from '../../src/adapters/fastify.js';
import { enterpriseMiddleware as honoMiddleware } from '../../src/adapters/hono.js';
import { enterpriseMiddleware as koaMiddleware } from '../../src/adapters/koa.js';
import { createMonitoringListener, instrumentListener } from '../../src/adapters/node.js';
import { InvalidArgumentError } from '../../src/core/errors.js';
import { createEnterprise, type Enterprise, type EnterpriseOptions } from '../../src/index.js';
import { RequestInstrumentation } from '../../src/monitoring/request-instrumentation.js';
import { SecurityConfigError } from '../../src/security/errors.js';
import type { ThreatEvent } from '../../src/security/types.js';
import { recordingLogger } from '../support/test-doubles.js';

const created: Enterprise[] = [];
function instance(security: EnterpriseOptions['security'] = {}): Enterprise {
  const enterprise = createEnterprise({
    logger: recordingLogger(),
    performance: { systemMetrics: false },
    alerts: false,
    security,
  });
  created.push(enterprise);
  return enterprise;
}
afterEach(async () => {
  for (const enterprise of created.splice(0)) await enterprise.shutdown();
});

/** Every adapter's way to create its middleware with a `security` option. */
const FACTORIES: Record<string, (security: unknown) => unknown> = {
  express: (security) => expressMiddleware({ security } as never),
  koa: (security) => koaMiddleware({ security } as never),
  hono: (security) => honoMiddleware({ security } as never),
  'node instrumentListener': (security) => instrumentListener(() => {}, { security } as never),
  'node createMonitoringListener': (security) =>
    createMonitoringListener({
      enterprise: instance(),
      auth: 'token-0123456789',
      start: false,
      instrument: { security } as never,
    }),
};

const BAD_LIMITS: [limit: object, field: string][] = [
  [{ path: '/login', limit: 0, window: '1m' }, 'security.rateLimits[0].limit'],
  [{ path: '/login', limit: 2.5, window: '1m' }, 'security.rateLimits[0].limit'],
  [{ path: '/login', limit: 5, window: 'soon' }, 'security.rateLimits[0].window'],
  [{ path: '/login', limit: 5, window: 0 }, 'security.rateLimits[0].window'],
  [{ path: 'login', limit: 5, window: '1m' }, 'security.rateLimits[0].path'],
  [{ path: '/login', limit: 5, window: '1m', cost: -1 }, 'security.rateLimits[0].cost'],
  [{ path: '/login', methods: 'POST', limit: 5, window: '1m' }, 'security.rateLimits[0].methods'],
];

describe('the security option, checked when the middleware is created', () => {
  describe.each(Object.entries(FACTORIES))('%s', (_name, create) => {
    it.each(BAD_LIMITS)(
      'a bad route limit throws a SecurityConfigError naming %o',
      (limit, field) => {
        let error: unknown;
        try {
          create({ rateLimits: [limit] });
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(SecurityConfigError);
        expect((error as SecurityConfigError).code).toBe('E_SECURITY_CONFIG');
        expect((error as SecurityConfigError).context).toMatchObject({ field });
        expect((error as Error).message).toContain(field);
      },
    );

    it("names the instance's option given to the middleware instead", () => {
      expect(() => create({ mode: 'block' })).toThrow(
        expect.objectContaining({
          code: 'E_SECURITY_CONFIG',
          message: expect.stringContaining('createEnterprise({ security: { mode } })'),
        }),
      );
      expect(() => create({ limits: [] })).toThrow(SecurityConfigError);
    });

    it('refuses a value that is neither a boolean nor options', () => {
      expect(() => create('yes')).toThrow(InvalidArgumentError);
    });
  });

  it('a second route limit of the same name is refused', () => {
    const limit = { name: 'login', path: '/login', limit: 5, window: '1m' as const };
    expect(() => expressMiddleware({ security: { rateLimits: [limit, limit] } })).toThrow(
      expect.objectContaining({
        context: expect.objectContaining({ field: 'security.rateLimits[1].name' }),
      }),
    );
  });

  it('fastify: the plugin fails to register with the same error', async () => {
    const app = Fastify({ logger: false });
    app.register(enterprisePlugin, {
      enterprise: instance(),
      monitoring: false,
      instrument: { security: { rateLimits: [{ path: '/login', limit: 0, window: '1m' }] } },
    });
    await expect(app.ready()).rejects.toMatchObject({
      code: 'E_SECURITY_CONFIG',
      context: { field: 'security.rateLimits[0].limit' },
    });
    await app.close().catch(() => undefined);
  });

  it('off (the default, or false): no guard at all on the hot path', () => {
    expect(new RequestInstrumentation({}).security).toBeUndefined();
    expect(new RequestInstrumentation({ security: false }).security).toBeUndefined();
    expect(new RequestInstrumentation({ security: true }).security).toBeDefined();
  });

  it('needs the security module loaded: an adapter entry alone says which entry to import', async () => {
    const adapter = fileURLToPath(new URL('../../src/adapters/express.ts', import.meta.url));
    const script = `
      const { enterpriseMiddleware } = await import(${JSON.stringify(adapter)});
      try { enterpriseMiddleware({ security: true }); console.log('created'); }
      catch (error) { console.log(error.code, error.message); }
      enterpriseMiddleware({});
      console.log('off: created');`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 30_000 },
    );
    expect(stdout).toContain('E_LIFECYCLE');
    expect(stdout).toContain('@revcopy/enterprise/security');
    expect(stdout).toContain('off: created');
  }, 40_000);
});

describe('hono without @hono/node-server (a Web Request and no Node socket)', () => {
  function app(enterprise: Enterprise, remoteAddress?: () => string) {
    const hono = new Hono();
    hono.use('*', honoMiddleware({ enterprise, security: true, remoteAddress }));
    hono.get('/search', (c) => c.json({ ok: true }));
    return hono;
  }
  const attack = `/search?q=${encodeURIComponent('<script>alert(1)</script>')}`;

  it('reads the path and query from the URL and the address from the remoteAddress option', async () => {
    const enterprise = instance({ mode: 'block' });
    const threats: ThreatEvent[] = [];
    enterprise.security.on('threat', (threat) => threats.push(threat));
    const refused = await app(enterprise, () => '198.51.100.9').request(attack);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'E_FORBIDDEN', category: 'xss' });
    expect(refused.headers.get('x-request-id')).toBeTruthy();
    expect(threats[0]).toMatchObject({
      category: 'xss',
      client: '198.51.100.9',
      location: 'query:q',
    });

    await enterprise.security.ban('198.51.100.9', '1h', 'test');
    const banned = await app(enterprise, () => '198.51.100.9').request('/search?q=shoes');
    expect(banned.status).toBe(403);
    expect(await banned.json()).toMatchObject({ reason: 'banned' });
  });

  it('a remoteAddress function that throws costs the address, never the request', async () => {
    const enterprise = instance({ mode: 'detect' });
    const threats: ThreatEvent[] = [];
    enterprise.security.on('threat', (threat) => threats.push(threat));
    const response = await app(enterprise, () => {
      throw new Error('no connection info here');
    }).request(attack);
    expect(response.status).toBe(200);
    expect(threats[0]).toMatchObject({ category: 'xss', client: 'unknown' });
  });

  it('without the option every request has the client key unknown', async () => {
    const enterprise = instance({ mode: 'detect' });
    const threats: ThreatEvent[] = [];
    enterprise.security.on('threat', (threat) => threats.push(threat));
    const response = await app(enterprise).request(attack);
    expect(response.status).toBe(200);
    expect(threats[0]).toMatchObject({ category: 'xss', client: 'unknown' });
  });
});

import { createServer } from 'node:http';
import express from 'express';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { enterpriseMiddleware as expressMiddleware } from '../../src/adapters/express.js';
import { enterpriseMiddleware as koaMiddleware } from '../../src/adapters/koa.js';
import { AnalyticsConfigError } from '../../src/analytics/events/errors.js';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import type { RequestInstrumentationOptions } from '../../src/monitoring/request-instrumentation.js';
import { recordingLogger } from '../support/test-doubles.js';
import { closeServer, listen } from './helpers.js';

// The middleware's `analytics` option: each completed request tracked into the instance's
// analytics by method, route template and status class, through real Express and Koa servers.

type Start = (
  enterprise: Enterprise,
  options: RequestInstrumentationOptions,
) => Promise<{ url: string; close: () => Promise<void> }>;

const adapters: [string, Start][] = [
  [
    'express',
    async (enterprise, options) => {
      const app = express();
      app.use(expressMiddleware({ enterprise, ...options }));
      app.get('/users/:id', (req, res) => {
        res.json({ id: req.params.id });
      });
      app.get('/fail', (_req, res) => {
        res.status(503).json({ error: 'down' });
      });
      app.get('/monitoring/health/live', (_req, res) => {
        res.json({ ok: true });
      });
      const server = createServer(app);
      return { url: await listen(server), close: () => closeServer(server) };
    },
  ],
  [
    'koa',
    async (enterprise, options) => {
      const app = new Koa();
      app.use(koaMiddleware({ enterprise, ...options }));
      // A minimal router setting ctx._matchedRoute as @koa/router does.
      const routes: [RegExp, string, (ctx: Koa.Context) => void][] = [
        [/^\/users\/[^/]+$/, '/users/:id', (ctx) => (ctx.body = { id: 1 })],
        [/^\/fail$/, '/fail', (ctx) => ((ctx.status = 503), (ctx.body = { error: 'down' }))],
        [/^\/monitoring\/health\/live$/, '/monitoring/health/live', (ctx) => (ctx.body = {})],
      ];
      app.use(async (ctx, next) => {
        const found = routes.find(([pattern]) => ctx.method === 'GET' && pattern.test(ctx.path));
        if (found === undefined) return next();
        (ctx as { _matchedRoute?: string })._matchedRoute = found[1];
        found[2](ctx);
      });
      const server = createServer(app.callback());
      return { url: await listen(server), close: () => closeServer(server) };
    },
  ],
];

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function serve(start: Start, options: RequestInstrumentationOptions) {
  const enterprise = createEnterprise({
    logger: recordingLogger(),
    performance: { systemMetrics: false },
    analytics: { history: false },
  });
  const app = await start(enterprise, options);
  cleanup.push(
    () => enterprise.shutdown(),
    () => app.close(),
  );
  return { enterprise, url: app.url };
}

/** Waits until every request sent was recorded (the middleware tracks once the response closed). */
async function counts(enterprise: Enterprise, expected: number): Promise<Map<string, number>> {
  const deadline = Date.now() + 5_000;
  while (enterprise.analytics.recent().length < expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await enterprise.analytics.flush();
  const report = await enterprise.analytics.events();
  return new Map(report.top.map(({ event, count }) => [event, count]));
}

describe.each(adapters)('request usage analytics through the %s middleware', (_name, start) => {
  it('tracks each request by method, route template and status class, never the raw path', async () => {
    const { enterprise, url } = await serve(start, { analytics: true });
    for (const path of ['/users/1', '/users/2', '/users/3', '/fail', '/nowhere/abc']) {
      await (await fetch(`${url}${path}`)).arrayBuffer();
    }
    await (await fetch(`${url}/users/4`, { method: 'DELETE' })).arrayBuffer();
    // A probe that succeeded is left out.
    await (await fetch(`${url}/monitoring/health/live`)).arrayBuffer();
    const byEvent = await counts(enterprise, 6);
    expect(Object.fromEntries(byEvent)).toEqual({
      'GET /users/:id 2xx': 3,
      'GET /fail 5xx': 1,
      'GET unmatched 4xx': 1,
      'DELETE unmatched 4xx': 1,
    });
    const recent = enterprise.analytics.recent().find((e) => e.event === 'GET /fail 5xx');
    expect(recent?.properties).toEqual({
      method: 'GET',
      route: '/fail',
      status_class: '5xx',
      status: 503,
    });
  });

  it('names or skips events as the option says', async () => {
    const { enterprise, url } = await serve(start, {
      analytics: {
        event: ({ route, statusClass }) =>
          route.startsWith('/users/') ? `users ${statusClass}` : undefined,
      },
    });
    for (const path of ['/users/1', '/users/2', '/fail']) {
      await (await fetch(`${url}${path}`)).arrayBuffer();
    }
    expect(Object.fromEntries(await counts(enterprise, 2))).toEqual({ 'users 2xx': 2 });
  });

  it('tracks nothing without the option', async () => {
    const { enterprise, url } = await serve(start, {});
    await (await fetch(`${url}/users/1`)).arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(enterprise.analytics.recent()).toEqual([]);
  });
});

describe('the analytics option, checked when the middleware is created', () => {
  it('refuses an event that is not a function, naming the field', () => {
    expect(() => expressMiddleware({ analytics: { event: 'x' as never } })).toThrow(
      AnalyticsConfigError,
    );
    expect(() => koaMiddleware({ analytics: 'yes' as never })).toThrow(/analytics=/);
  });
});

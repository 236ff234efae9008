import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGzip, type Gzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Alerts } from '../../src/alerts/alerts.js';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import type { RequestInstrumentationOptions } from '../../src/monitoring/request-instrumentation.js';
import { withAlerts } from '../monitoring/helpers.js';
import { type RecordingLogger, recordingLogger } from '../support/test-doubles.js';
import { describeAdapterSecurity } from './security-suite.js';

/**
 * One behaviour suite every framework adapter passes: each adapter's test file describes how to
 * build a host application with that framework (routes below), and this suite sends it real
 * requests over 127.0.0.1.
 *
 * The host application of a harness must have:
 * - the enterprise middleware registered first, then a compression-like middleware when
 *   `compression` is set ({@link bufferingCompression});
 * - `GET /users/:id` answering `{ id, correlationId: getCorrelationId() }`;
 * - `POST /echo` behind the framework's JSON body parser, answering `{ body }`;
 * - `POST /login` answering `{ ok: true }`;
 * - `GET /fail` whose handler throws (the framework answers 500);
 * - the monitoring router under `prefix`, with `auth`, `public` and `maxStreams` passed on;
 * - the middleware's `security` option passed on.
 */
export interface HostOptions {
  enterprise: Enterprise;
  prefix: string;
  auth?: string;
  public?: boolean;
  maxStreams?: number;
  compression?: boolean;
  security?: RequestInstrumentationOptions['security'];
}

/** A listening host application. */
export interface HostApp {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Closes the application the framework's way (server.close(), app.close()). */
  close(): Promise<void>;
}

/** How to build one framework's host application. */
export interface AdapterHarness {
  start(options: HostOptions): Promise<HostApp>;
  /** Whether the host can register a Node-level compression middleware. */
  compression?: boolean;
}

export const TOKEN = 'test-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const API_CSP = "default-src 'none'; frame-ancestors 'none'";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An enterprise instance logging into memory, with no background sampler. */
export function testEnterprise(): { enterprise: Enterprise; logger: RecordingLogger } {
  const logger = recordingLogger();
  const enterprise = createEnterprise({
    logger,
    performance: { systemMetrics: false },
  });
  return { enterprise, logger };
}

/**
 * A stand-in for the `compression` package (not installed here) with the behaviour that matters:
 * it decides when the headers are written, gzips the body unless `Cache-Control` says
 * `no-transform`, and buffers output inside zlib until `flush()` or the end, which is exactly what
 * would hold back an event stream.
 */
export function bufferingCompression(
  req: IncomingMessage,
  res: ServerResponse,
  next: () => void,
): void {
  const write = res.write.bind(res) as (chunk: unknown) => boolean;
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  let gzip: Gzip | undefined;
  let decided = false;
  const decide = () => {
    if (decided) return;
    decided = true;
    const cacheControl = String(res.getHeader('cache-control') ?? '');
    if (/no-transform/.test(cacheControl) || !/gzip/.test(String(req.headers['accept-encoding']))) {
      return;
    }
    res.setHeader('content-encoding', 'gzip');
    res.removeHeader('content-length');
    gzip = createGzip();
    gzip.on('data', (data: Buffer) => write(data));
    gzip.on('end', () => end());
  };
  res.writeHead = ((...args: unknown[]) => {
    decide();
    return writeHead(...args);
  }) as typeof res.writeHead;
  res.write = ((chunk: unknown) => {
    decide();
    if (gzip === undefined) return write(chunk);
    gzip.write(chunk as Buffer);
    return true;
  }) as typeof res.write;
  res.end = ((chunk?: unknown) => {
    decide();
    if (gzip === undefined) return end(chunk);
    if (chunk !== undefined && typeof chunk !== 'function') gzip.end(chunk as Buffer);
    else gzip.end();
    return res;
  }) as typeof res.end;
  (res as { flush?: () => void }).flush = () => gzip?.flush();
  next();
}

/** Reads an event stream until `pattern` appears or `timeoutMs` passes; returns what was read. */
async function readUntil(
  body: ReadableStream<Uint8Array>,
  pattern: RegExp,
  timeoutMs: number,
): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!pattern.test(text) && Date.now() < deadline) {
      const next = await Promise.race([
        reader.read(),
        new Promise<undefined>((resolve) => {
          setTimeout(() => resolve(undefined), deadline - Date.now()).unref();
        }),
      ]);
      if (next === undefined || next.done) break;
      text += decoder.decode(next.value, { stream: true });
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
  return text;
}

function requestLines(logger: RecordingLogger) {
  return logger.calls.filter((call) => call.message === 'request completed');
}

/** The `http.request` statistics of one label set, once recorded (recording follows the response). */
async function httpStats(
  enterprise: Enterprise,
  labels: { method: string; route: string; status_class: string },
) {
  return vi.waitFor(
    () => {
      const stats = enterprise.performance.getStats('http.request', labels);
      if (stats === undefined) throw new Error(`no http.request ${JSON.stringify(labels)} yet`);
      return stats;
    },
    { timeout: 2000, interval: 10 },
  );
}

/** Defines the shared behaviour suite for one adapter. */
export function describeAdapter(name: string, harness: AdapterHarness): void {
  describe(`${name} adapter`, () => {
    const prefix = '/api/v1/monitoring';
    let app: HostApp;
    let enterprise: Enterprise;
    let logger: RecordingLogger;
    let alerts: Alerts;
    const requestBefore = globalThis.Request;
    const responseBefore = globalThis.Response;

    beforeAll(async () => {
      const built = testEnterprise();
      logger = built.logger;
      // An instance with an alerts module of the test's own (see withAlerts), with one alert firing.
      alerts = new Alerts({ logger: built.enterprise.logger, deliver: () => {} });
      alerts.rule({ name: 'AdapterCheck', watch: () => 1, condition: { above: 0 } });
      await alerts.evaluate();
      enterprise = withAlerts(built.enterprise, alerts);
      app = await harness.start({
        enterprise,
        prefix,
        auth: TOKEN,
        maxStreams: 1,
        compression: harness.compression === true,
      });
    });
    afterAll(async () => {
      await app?.close();
      await enterprise?.shutdown();
    });

    describe('middleware', () => {
      it('generates a correlation id, visible in the handler and echoed in x-request-id', async () => {
        const response = await fetch(`${app.url}/users/42`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as { id: string; correlationId: string };
        const id = response.headers.get('x-request-id');
        expect(id).toMatch(UUID);
        expect(body).toEqual({ id: '42', correlationId: id });
      });

      it('reuses a valid inbound x-request-id', async () => {
        const response = await fetch(`${app.url}/users/7`, {
          headers: { 'x-request-id': 'trace-abc.123' },
        });
        const body = (await response.json()) as { correlationId: string };
        expect(response.headers.get('x-request-id')).toBe('trace-abc.123');
        expect(body.correlationId).toBe('trace-abc.123');
      });

      it('replaces an invalid inbound x-request-id', async () => {
        for (const bad of ['has space', 'x'.repeat(129), '<script>']) {
          const response = await fetch(`${app.url}/users/8`, { headers: { 'x-request-id': bad } });
          const body = (await response.json()) as { correlationId: string };
          expect(response.headers.get('x-request-id')).toMatch(UUID);
          expect(body.correlationId).toBe(response.headers.get('x-request-id'));
        }
      });

      it('records http.request under the route template, never the raw path', async () => {
        await (await fetch(`${app.url}/users/12345`)).text();
        const stats = await httpStats(enterprise, {
          method: 'GET',
          route: '/users/:id',
          status_class: '2xx',
        });
        expect(stats.windows.all.count).toBeGreaterThanOrEqual(1);
        const routes = enterprise.performance
          .operations()
          .filter((op) => op.name === 'http.request')
          .map((op) => op.labels.route);
        expect(routes.some((route) => route?.includes('12345'))).toBe(false);
      });

      it('records the status class: 5xx for a throwing handler, unmatched 4xx for an unknown path', async () => {
        const failed = await fetch(`${app.url}/fail`);
        await failed.text();
        expect(failed.status).toBe(500);
        const fail = await httpStats(enterprise, {
          method: 'GET',
          route: '/fail',
          status_class: '5xx',
        });
        expect(fail.windows.all.errors).toBeGreaterThanOrEqual(1);
        const missing = await fetch(`${app.url}/no/such/path/999`);
        await missing.text();
        expect(missing.status).toBe(404);
        await httpStats(enterprise, { method: 'GET', route: 'unmatched', status_class: '4xx' });
      });

      it('keeps the correlation id and security headers on error responses', async () => {
        const response = await fetch(`${app.url}/fail`, { headers: { 'x-request-id': 'err-1' } });
        await response.text();
        expect(response.headers.get('x-request-id')).toBe('err-1');
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      });

      it('sets the basic security headers, none that could break a page, and removes x-powered-by', async () => {
        const response = await fetch(`${app.url}/users/1`);
        await response.text();
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
        // helmet's page-changing and legacy headers only with `securityHeaders: 'helmet'`.
        for (const name of [
          'x-xss-protection',
          'x-download-options',
          'x-permitted-cross-domain-policies',
          'content-security-policy',
          'cross-origin-resource-policy',
          'cross-origin-opener-policy',
          'x-frame-options',
          'referrer-policy',
          'strict-transport-security',
        ]) {
          expect(response.headers.get(name), name).toBeNull();
        }
        expect(response.headers.get('x-powered-by')).toBeNull();
      });

      it('logs exactly one structured line per request', async () => {
        const id = `log-${Date.now()}`;
        await (await fetch(`${app.url}/users/5`, { headers: { 'x-request-id': id } })).text();
        const lines = await vi.waitFor(
          () => {
            const found = requestLines(logger).filter((line) => line.fields.correlationId === id);
            if (found.length === 0) throw new Error('no log line yet');
            return found;
          },
          { timeout: 2000, interval: 10 },
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(
          requestLines(logger).filter((line) => line.fields.correlationId === id),
        ).toHaveLength(1);
        expect(lines[0]!.level).toBe('info');
        expect(lines[0]!.fields).toMatchObject({
          method: 'GET',
          route: '/users/:id',
          status: 200,
          module: 'http',
        });
        expect(typeof lines[0]!.fields.durationMs).toBe('number');
      });

      it('coexists with the host body parser', async () => {
        const response = await fetch(`${app.url}/echo`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ hello: 'world' }),
        });
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ body: { hello: 'world' } });
      });

      it('without the security option: no RateLimit headers, no security module built', async () => {
        const response = await fetch(`${app.url}/users/1?q=${encodeURIComponent("' OR 1=1--")}`);
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        expect(response.headers.get('ratelimit')).toBeNull();
        expect(response.headers.get('ratelimit-policy')).toBeNull();
        expect(enterprise.peek('security')).toBeUndefined();
      });

      it('leaves the global Request and Response alone', () => {
        expect(globalThis.Request).toBe(requestBefore);
        expect(globalThis.Response).toBe(responseBefore);
      });
    });

    describe('monitoring router', () => {
      const dataEndpoints = [
        '/health',
        '/performance/summary',
        '/database/performance',
        '/cache/analytics',
        '/tasks/monitoring',
        '/metrics',
        '/info',
        '/openapi.json',
      ];

      it.each(dataEndpoints)('serves GET %s under the prefix', async (path) => {
        const response = await fetch(`${app.url}${prefix}${path}`, { headers: AUTH });
        await response.arrayBuffer();
        // The router's own CSP proves the router answered, not the host's 404.
        expect(response.headers.get('content-security-policy')).toBe(API_CSP);
        expect(response.status).not.toBe(404);
        // 503: a component is down; 501: the module behind it (tasks) is not enabled.
        expect([200, 501, 503]).toContain(response.status);
        expect(response.headers.get('x-request-id')).toBeTruthy();
      });

      it('serves the health probes without auth', async () => {
        for (const path of ['/health/live', '/health/ready']) {
          const response = await fetch(`${app.url}${prefix}${path}`);
          await response.arrayBuffer();
          expect([200, 503]).toContain(response.status);
          expect(response.headers.get('content-security-policy')).toBe(API_CSP);
        }
      });

      it('serves the dashboard page and answers 501 for a module not enabled', async () => {
        const pageUrl = `${app.url}${prefix}/dashboard`;
        const page = await fetch(pageUrl);
        expect(page.status).toBe(200);
        expect(page.headers.get('content-type')).toContain('text/html');
        const html = await page.text();
        // Every script and stylesheet the page references loads through the mount, without auth.
        const assets = [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css)(?:\?[^"]*)?)"/g)].map(
          (m) => m[1]!,
        );
        expect(assets.length).toBeGreaterThan(0);
        for (const asset of assets) {
          const response = await fetch(new URL(asset, pageUrl));
          expect(response.status, asset).toBe(200);
          await response.arrayBuffer();
        }
        // `<prefix>/dashboard/` would resolve the page's relative URLs one level too deep.
        const slash = await fetch(`${pageUrl}/`, { redirect: 'manual' });
        await slash.arrayBuffer();
        expect(slash.status).toBe(308);
        expect(new URL(slash.headers.get('location')!, `${pageUrl}/`).href).toBe(pageUrl);
        const security = await fetch(`${app.url}${prefix}/security/monitoring`, { headers: AUTH });
        expect(security.status).toBe(501);
        await security.arrayBuffer();
      });

      it('refuses data endpoints without the token, and with a wrong one', async () => {
        const anonymous = await fetch(`${app.url}${prefix}/performance/summary`);
        expect(anonymous.status).toBe(401);
        await anonymous.arrayBuffer();
        const wrong = await fetch(`${app.url}${prefix}/metrics`, {
          headers: { authorization: 'Bearer nope' },
        });
        expect(wrong.status).toBe(401);
        await wrong.arrayBuffer();
        const action = await fetch(`${app.url}${prefix}/tasks/dead/purge`, { method: 'POST' });
        expect(action.status).toBe(401);
        await action.arrayBuffer();
      });

      it('reaches POST actions, with a JSON body the host parser may have read', async () => {
        const actions = [
          '/tasks/dead/purge',
          '/tasks/dead/some-id/retry',
          '/tasks/queues/default/pause',
          '/tasks/queues/default/resume',
          '/cache/warmers/none/run',
          '/cache/tags/users/invalidate',
        ];
        for (const path of actions) {
          const response = await fetch(`${app.url}${prefix}${path}`, {
            method: 'POST',
            headers: { ...AUTH, 'content-type': 'application/json' },
            body: JSON.stringify({ reason: 'test' }),
          });
          const text = await response.text();
          expect(response.headers.get('content-security-policy'), path).toBe(API_CSP);
          expect(response.headers.get('content-type'), path).toContain('application/json');
          expect(() => JSON.parse(text), path).not.toThrow();
          expect(response.status, path).not.toBe(415);
        }
      });

      it('acts on alerts with a JSON body, whether the host parser read it or not', async () => {
        const listed = await fetch(`${app.url}${prefix}/alerts`, { headers: AUTH });
        expect(listed.status).toBe(200);
        const [alert] = ((await listed.json()) as { firing: { fingerprint: string }[] }).firing;
        const send = (method: string, path: string, body?: unknown) =>
          fetch(`${app.url}${prefix}${path}`, {
            method,
            headers: { ...AUTH, 'content-type': 'application/json' },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          });
        const ack = await send('POST', `/alerts/${alert!.fingerprint}/ack`, {
          by: 'carol',
          comment: 'on it',
        });
        expect(ack.status).toBe(200);
        await ack.arrayBuffer();
        expect(alerts.get(alert!.fingerprint)?.acknowledged).toMatchObject({
          by: 'carol',
          comment: 'on it',
        });
        const created = await send('POST', '/alerts/silences', {
          matchers: [{ name: 'alertname', value: 'AdapterCheck' }],
          duration: '1h',
          comment: 'maintenance',
        });
        expect(created.status).toBe(201);
        const { silence } = (await created.json()) as { silence: { id: string; comment: string } };
        expect(silence.comment).toBe('maintenance');
        const expired = await fetch(`${app.url}${prefix}/alerts/silences/${silence.id}`, {
          method: 'DELETE',
          headers: AUTH,
        });
        expect(expired.status).toBe(200);
        await expired.arrayBuffer();
        expect((await alerts.silences()).map((s) => s.status)).toEqual(['expired']);
      });

      it('records monitoring requests under low-cardinality templates', async () => {
        await (
          await fetch(`${app.url}${prefix}/tasks/dead/abc-123/retry`, {
            method: 'POST',
            headers: AUTH,
          })
        ).arrayBuffer();
        const routes = await vi.waitFor(
          () => {
            const found = enterprise.performance
              .operations()
              .filter((op) => op.name === 'http.request')
              .map((op) => op.labels.route ?? '');
            if (!found.some((route) => route.endsWith('/tasks/dead/:id/retry'))) {
              throw new Error(`not yet: ${found.join(', ')}`);
            }
            return found;
          },
          { timeout: 2000, interval: 10 },
        );
        expect(routes.some((route) => route.includes('abc-123'))).toBe(false);
      });

      it('never turns the spelling of a path into a label (case, slashes, ids, queries)', async () => {
        const paths = [
          `${prefix.toUpperCase()}/health`,
          `${prefix.replace('monitoring', 'MoNiToRiNg')}/metrics`,
          `${prefix}//health`,
          `${prefix}/dashboard/assets/x-9f8e7d.js`,
          `${prefix}/no/such/thing-31337`,
          `${prefix}/metrics?token=leak-4242`,
          '/no/such/path/31337',
        ];
        for (const path of paths) {
          const response = await fetch(`${app.url}${path}`);
          await response.arrayBuffer();
        }
        // One more request, recorded last: once it is there, the ones above are too.
        await (
          await fetch(`${app.url}/users/1`, { headers: { 'x-request-id': 'labels-done' } })
        ).arrayBuffer();
        await httpStats(enterprise, { method: 'GET', route: '/users/:id', status_class: '2xx' });
        await vi.waitFor(
          () => {
            const done = logger.calls.some((call) => call.fields.correlationId === 'labels-done');
            if (!done) throw new Error('last request not recorded yet');
          },
          { timeout: 2000, interval: 10 },
        );
        const routes = enterprise.performance
          .operations()
          .filter((op) => op.name === 'http.request')
          .map((op) => op.labels.route ?? '');
        for (const route of routes) {
          expect(route, route).not.toMatch(/[A-Z]|31337|4242|9f8e7d|\?|\/\//);
        }
      });

      it('streams snapshots unbuffered and frees the stream when the client leaves', async () => {
        const open = async () => {
          const controller = new AbortController();
          const response = await fetch(`${app.url}${prefix}/performance/realtime`, {
            headers: { ...AUTH, 'accept-encoding': 'gzip' },
            signal: controller.signal,
          });
          return { response, controller };
        };
        const first = await open();
        expect(first.response.status).toBe(200);
        expect(first.response.headers.get('content-type')).toContain('text/event-stream');
        expect(first.response.headers.get('cache-control')).toContain('no-transform');
        expect(first.response.headers.get('content-encoding')).toBeNull();
        const text = await readUntil(first.response.body!, /event: snapshot/, 5000);
        expect(text).toMatch(/(^|\n)id: \d+\nevent: snapshot\ndata: \{/);
        first.controller.abort();
        // maxStreams is 1: a second stream opens only once the first one was freed.
        const second = await vi.waitFor(
          async () => {
            const attempt = await open();
            if (attempt.response.status !== 200) {
              await attempt.response.arrayBuffer();
              throw new Error(`status ${attempt.response.status}`);
            }
            return attempt;
          },
          { timeout: 3000, interval: 50 },
        );
        const again = await readUntil(second.response.body!, /event: snapshot/, 5000);
        expect(again).toContain('event: snapshot');
        second.controller.abort();
      });
    });

    describeAdapterSecurity(harness);

    describe('lifecycle', () => {
      it('starts the instance with the application and shuts it down when it closes', async () => {
        const own = testEnterprise();
        const host = await harness.start({ enterprise: own.enterprise, prefix, auth: TOKEN });
        try {
          await vi.waitFor(() => expect(own.enterprise.state).toBe('started'), { timeout: 2000 });
          await (await fetch(`${host.url}${prefix}/health/live`)).arrayBuffer();
          // An open stream must not keep the application from closing.
          const stream = await fetch(`${host.url}${prefix}/performance/realtime`, {
            headers: AUTH,
          });
          expect(stream.status).toBe(200);
          const closing = Date.now();
          await host.close();
          await vi.waitFor(() => expect(own.enterprise.state).toBe('stopped'), { timeout: 3000 });
          // A stream holding the server open would take the keep-alive timeout (5 s) or forever.
          expect(Date.now() - closing).toBeLessThan(4000);
          await stream.body?.cancel().catch(() => undefined);
        } finally {
          await own.enterprise.shutdown();
        }
      });

      it('refuses to start in production without auth', async () => {
        const own = testEnterprise();
        const previous = process.env.NODE_ENV;
        process.env.NODE_ENV = 'production';
        try {
          await expect(harness.start({ enterprise: own.enterprise, prefix })).rejects.toThrow(
            /auth/i,
          );
        } finally {
          process.env.NODE_ENV = previous;
          await own.enterprise.shutdown();
        }
      });

      it('starts in production without auth when public is explicit', async () => {
        const own = testEnterprise();
        const previous = process.env.NODE_ENV;
        process.env.NODE_ENV = 'production';
        let host: HostApp | undefined;
        try {
          host = await harness.start({ enterprise: own.enterprise, prefix, public: true });
          const response = await fetch(`${host.url}${prefix}/performance/summary`);
          expect(response.status).toBe(200);
          await response.arrayBuffer();
        } finally {
          process.env.NODE_ENV = previous;
          await host?.close();
          await own.enterprise.shutdown();
        }
      });
    });
  });
}

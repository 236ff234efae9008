import { afterEach, describe, expect, it } from 'vitest';
import { Alerts } from '../../src/alerts/alerts.js';
import type { AlertsOptions } from '../../src/alerts/options.js';
import type { Enterprise } from '../../src/index.js';
import {
  type AlertStreamEvent,
  createMonitoringRouter,
  type MonitoringRouter,
} from '../../src/monitoring/index.js';
import {
  AUTH,
  alertsEnterprise,
  call,
  closeServer,
  json,
  listen,
  manualClock,
  SseReader,
  TOKEN,
  testEnterprise,
  until,
  withAlerts,
} from './helpers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const JSON_AUTH = { ...AUTH, 'content-type': 'application/json' };
const EVALUATION_MS = 15_000;

/**
 * A router over an instance with an alerts module on a manual clock, with three rules over values
 * the test sets: `CheckoutSlow` (critical, fires at once), `QueueBacklog` (warning, pending for
 * five minutes) and `DiskFull` (info, never breached). One evaluation has run.
 */
async function setup(
  routerOptions: Parameters<typeof createMonitoringRouter>[0] = {},
  alertsOptions: AlertsOptions = {},
) {
  const clock = manualClock();
  const { enterprise, alerts } = alertsEnterprise({ clock, ...alertsOptions });
  const values = { latency: 900, queue: 5, disk: 0.5 };
  alerts.rule({
    name: 'CheckoutSlow',
    watch: () => values.latency,
    condition: { above: 800 },
    severity: 'critical',
    labels: { service: 'checkout' },
    summary: 'p95 is {{value}} ms',
  });
  alerts.rule({
    name: 'QueueBacklog',
    watch: () => values.queue,
    condition: { above: 3 },
    for: '5m',
    severity: 'warning',
    labels: { service: 'worker' },
  });
  alerts.rule({
    name: 'DiskFull',
    watch: () => values.disk,
    condition: { above: 0.9 },
    severity: 'info',
  });
  await alerts.evaluate();
  const router = createMonitoringRouter({ enterprise, auth: TOKEN, ...routerOptions });
  cleanup.push(async () => {
    await router.close();
    await enterprise.shutdown();
  });
  const fingerprint = (rule: string) => fp(alerts, rule);
  /** Moves the clock one evaluation interval on and evaluates. */
  const tick = async () => {
    clock.advance(EVALUATION_MS);
    await alerts.evaluate();
  };
  return { enterprise, alerts, router, values, fingerprint, tick };
}

function fp(alerts: Alerts, rule: string): string {
  const states = ['inactive', 'pending', 'firing', 'resolved', 'nodata', 'error'] as const;
  const alert = alerts.list({ state: [...states] }).find((a) => a.rule === rule);
  if (alert === undefined) throw new Error(`no alert of ${rule}`);
  return alert.fingerprint;
}

const rules = (list: { rule: string }[]) => list.map((alert) => alert.rule);

function post(
  router: MonitoringRouter,
  path: string,
  body?: unknown,
  headers: Record<string, string> = JSON_AUTH,
) {
  return call(router, path, {
    method: 'POST',
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('GET /alerts', () => {
  it('lists the firing and pending alerts, most severe first, with the history', async () => {
    const { router } = await setup();
    const response = await call(router, '/alerts', { headers: AUTH });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = await json(response);
    expect(rules(body.firing)).toEqual(['CheckoutSlow']);
    expect(body.firing[0]).toMatchObject({
      state: 'firing',
      severity: 'critical',
      value: 900,
      labels: { alertname: 'CheckoutSlow', service: 'checkout' },
      annotations: { summary: 'p95 is 900 ms' },
      firingAt: expect.any(String),
    });
    expect(body.firing[0].fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(rules(body.pending)).toEqual(['QueueBacklog']);
    expect(body.pending[0].firingAt).toBeUndefined();
    // The rule whose condition does not hold has no alert to show.
    expect(body.silenced).toEqual([]);
    expect(body.other).toEqual([]);
    expect(body.history).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ rule: 'CheckoutSlow', from: 'inactive', to: 'firing' }),
        expect.objectContaining({ rule: 'QueueBacklog', from: 'inactive', to: 'pending' }),
      ]),
    );
    const info = await json(await call(router, '/info', { headers: AUTH }));
    expect(info.modules.alerts).toBe(true);
  });

  it('narrows the lists by state, severity and labels, and the history by severity and labels', async () => {
    const { router, values, tick } = await setup();
    values.latency = 100;
    await tick(); // CheckoutSlow resolves
    const get = async (query: string) => {
      const response = await call(router, `/alerts?${query}`, { headers: AUTH });
      expect(response.status, query).toBe(200);
      return json(response);
    };
    expect(rules((await get('')).other)).toEqual(['CheckoutSlow']);
    const pending = await get('state=pending');
    expect([rules(pending.firing), rules(pending.pending), rules(pending.other)]).toEqual([
      [],
      ['QueueBacklog'],
      [],
    ]);
    const critical = await get('severity=critical');
    expect(rules(critical.other)).toEqual(['CheckoutSlow']);
    expect(critical.pending).toEqual([]);
    expect(new Set(critical.history.map((t: { rule: string }) => t.rule))).toEqual(
      new Set(['CheckoutSlow']),
    );
    const worker = await get('label=service%3Dworker');
    expect(rules(worker.pending)).toEqual(['QueueBacklog']);
    expect(worker.other).toEqual([]);
    expect(worker.history.map((t: { rule: string }) => t.rule)).toEqual(['QueueBacklog']);
    expect(rules((await get('label=service=worker&label=alertname=DiskFull')).pending)).toEqual([]);
    // Several values: repeated or comma-separated.
    for (const query of ['state=pending&state=resolved', 'state=pending,resolved']) {
      const both = await get(query);
      expect([...rules(both.pending), ...rules(both.other)]).toEqual([
        'QueueBacklog',
        'CheckoutSlow',
      ]);
    }
    expect(rules((await get('state=inactive')).other)).toEqual(['DiskFull']);
    expect((await get('limit=1')).history).toHaveLength(1);
    expect((await get('limit=0')).history).toEqual([]);
  });

  it('answers 400 naming the parameter for an invalid filter', async () => {
    const { router } = await setup();
    for (const [query, field] of [
      ['state=burning', 'state'],
      ['state=firing,', 'state'],
      ['severity=high', 'severity'],
      ['label=service', 'label'],
      ['label==x', 'label'],
      ['label=a=1&label=a=2', 'label'],
      ['limit=-1', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=5000', 'limit'],
    ]) {
      const response = await call(router, `/alerts?${query}`, { headers: AUTH });
      expect(response.status, query).toBe(400);
      expect((await json(response)).error, query).toMatchObject({ code: 'E_BAD_REQUEST', field });
    }
  });
});

describe('POST /alerts/:fingerprint/ack', () => {
  it('acknowledges an alert, which then shows as acknowledged', async () => {
    const { router, alerts, fingerprint } = await setup();
    const acknowledged: string[] = [];
    alerts.on('acknowledged', (alert) => acknowledged.push(alert.rule));
    const fp = fingerprint('CheckoutSlow');
    const response = await post(router, `/alerts/${fp}/ack`, {
      by: 'alice',
      comment: 'rolling back',
    });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toMatchObject({
      ok: true,
      alert: {
        fingerprint: fp,
        acknowledged: { by: 'alice', comment: 'rolling back', at: expect.any(String) },
      },
    });
    expect(acknowledged).toEqual(['CheckoutSlow']);
    const list = await json(await call(router, '/alerts', { headers: AUTH }));
    expect(list.firing[0].acknowledged).toMatchObject({ by: 'alice', comment: 'rolling back' });
    expect(alerts.get(fp)?.acknowledged?.by).toBe('alice');
  });

  it('says who acknowledged as `monitoring` when the request does not', async () => {
    const { router, alerts, fingerprint } = await setup();
    const fp = fingerprint('QueueBacklog');
    // No body at all, then an empty object: both are an acknowledgement by `monitoring`.
    expect((await post(router, `/alerts/${fp}/ack`, undefined, AUTH)).status).toBe(200);
    expect(alerts.get(fp)?.acknowledged).toEqual({ by: 'monitoring', at: expect.any(String) });
    expect((await post(router, `/alerts/${fp}/ack`, { by: '  ' })).status).toBe(200);
    expect(alerts.get(fp)?.acknowledged?.by).toBe('monitoring');
  });

  it('answers 404 for an unknown fingerprint and 409 for an alert that is not pending or firing', async () => {
    const { router, alerts, values, tick, fingerprint } = await setup();
    const unknown = await post(router, '/alerts/0123456789abcdef/ack', { by: 'alice' });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.code).toBe('E_NOT_FOUND');
    values.latency = 100;
    await tick();
    const fp = fingerprint('CheckoutSlow');
    expect(alerts.get(fp)?.state).toBe('resolved');
    const resolved = await post(router, `/alerts/${fp}/ack`, { by: 'alice' });
    expect(resolved.status).toBe(409);
    expect((await json(resolved)).error.code).toBe('E_CONFLICT');
    expect(alerts.get(fp)?.acknowledged).toBeUndefined();
  });

  it('answers 400 for a body that is not a JSON object with string fields', async () => {
    const { router, alerts, fingerprint } = await setup();
    const fp = fingerprint('CheckoutSlow');
    const cases: [RequestInit & { headers: Record<string, string> }, string][] = [
      [{ headers: { ...AUTH, 'content-type': 'text/plain' }, body: '{"by":"a"}' }, 'body'],
      [{ headers: JSON_AUTH, body: '{"by":' }, 'body'],
      [{ headers: JSON_AUTH, body: '["alice"]' }, 'body'],
      [{ headers: JSON_AUTH, body: JSON.stringify({ by: 42 }) }, 'by'],
      [{ headers: JSON_AUTH, body: JSON.stringify({ comment: { text: 'x' } }) }, 'comment'],
      [{ headers: JSON_AUTH, body: JSON.stringify({ by: 'a'.repeat(201) }) }, 'by'],
      [{ headers: JSON_AUTH, body: JSON.stringify({ comment: 'x'.repeat(70_000) }) }, 'body'],
    ];
    for (const [init, field] of cases) {
      const response = await call(router, `/alerts/${fp}/ack`, { method: 'POST', ...init });
      expect(response.status, String(init.body).slice(0, 30)).toBe(400);
      expect((await json(response)).error).toMatchObject({ code: 'E_BAD_REQUEST', field });
    }
    expect(alerts.get(fp)?.acknowledged).toBeUndefined();
  });
});

describe('silences', () => {
  it('creates, lists and expires a silence; the alert it matches moves to `silenced` meanwhile', async () => {
    const { router } = await setup();
    const created = await post(router, '/alerts/silences', {
      matchers: [{ name: 'service', value: 'checkout' }],
      duration: '1h',
      comment: 'deploying the fix',
    });
    expect(created.status).toBe(201);
    const { ok, silence } = await json(created);
    expect(ok).toBe(true);
    expect(silence).toMatchObject({
      id: expect.any(String),
      matchers: [{ name: 'service', value: 'checkout', op: '=' }],
      createdBy: 'monitoring',
      comment: 'deploying the fix',
      status: 'active',
    });
    expect(Date.parse(silence.endsAt) - Date.parse(silence.startsAt)).toBe(3_600_000);

    const muted = await json(await call(router, '/alerts', { headers: AUTH }));
    expect(rules(muted.silenced)).toEqual(['CheckoutSlow']);
    expect(muted.silenced[0].silencedBy).toEqual([silence.id]);
    expect(muted.firing).toEqual([]);
    const listed = await json(await call(router, '/alerts/silences', { headers: AUTH }));
    expect(listed.silences).toEqual([
      expect.objectContaining({ id: silence.id, status: 'active' }),
    ]);

    const expired = await call(router, `/alerts/silences/${silence.id}`, {
      method: 'DELETE',
      headers: AUTH,
    });
    expect(expired.status).toBe(200);
    expect(await json(expired)).toEqual({ ok: true, id: silence.id });
    const after = await json(await call(router, '/alerts/silences', { headers: AUTH }));
    expect(after.silences).toEqual([
      expect.objectContaining({ id: silence.id, status: 'expired' }),
    ]);
    expect(rules((await json(await call(router, '/alerts', { headers: AUTH }))).firing)).toEqual([
      'CheckoutSlow',
    ]);

    const again = await call(router, `/alerts/silences/${silence.id}`, {
      method: 'DELETE',
      headers: AUTH,
    });
    expect(again.status).toBe(409);
    expect((await json(again)).error.code).toBe('E_CONFLICT');
    const unknown = await call(router, '/alerts/silences/no-such-silence', {
      method: 'DELETE',
      headers: AUTH,
    });
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.code).toBe('E_NOT_FOUND');
  });

  it('keeps the creator and the times a request gives', async () => {
    const { router } = await setup();
    const startsAt = new Date(1_700_000_000_000 + 3_600_000).toISOString();
    const endsAt = new Date(1_700_000_000_000 + 7_200_000).toISOString();
    const created = await post(router, '/alerts/silences', {
      matchers: [{ name: 'alertname', op: '=~', value: 'Queue.*' }],
      startsAt,
      endsAt,
      createdBy: 'bob',
    });
    expect(created.status).toBe(201);
    expect((await json(created)).silence).toMatchObject({
      createdBy: 'bob',
      startsAt,
      endsAt,
      status: 'pending',
    });
  });

  it('answers 400 naming the field the alerts module refused', async () => {
    const { router, alerts } = await setup();
    const matchers = [{ name: 'service', value: 'checkout' }];
    const cases: [unknown, string][] = [
      [{ duration: '1h' }, 'matchers'],
      [{ matchers: [], duration: '1h' }, 'matchers'],
      [{ matchers: [{ name: 'a', op: '=~', value: '(' }], duration: '1h' }, 'matchers[0].value'],
      [{ matchers: [{ name: '', value: 'x' }], duration: '1h' }, 'matchers[0].name'],
      [{ matchers: [{ name: 'a', op: '~', value: 'x' }], duration: '1h' }, 'matchers[0].op'],
      [{ matchers }, 'endsAt'],
      [{ matchers, endsAt: '2020-01-01T00:00:00Z' }, 'endsAt'],
      [{ matchers, endsAt: 'tomorrow' }, 'endsAt'],
      [{ matchers, duration: 'soon' }, 'duration'],
      [{ matchers, duration: '1h', createdBy: 7 }, 'createdBy'],
      [{ matchers: Array.from({ length: 33 }, () => matchers[0]), duration: '1h' }, 'matchers'],
      [{ matchers: [{ name: 'a', value: 'x'.repeat(1025) }], duration: '1h' }, 'matchers[0].value'],
    ];
    for (const [body, field] of cases) {
      const response = await post(router, '/alerts/silences', body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect((await json(response)).error, JSON.stringify(body).slice(0, 80)).toMatchObject({
        code: 'E_BAD_REQUEST',
        field,
      });
    }
    const empty = await post(router, '/alerts/silences', undefined, AUTH);
    expect(empty.status).toBe(400);
    expect((await json(empty)).error.field).toBe('body');
    expect(await alerts.silences()).toEqual([]);
  });
});

describe('GET /alerts/rules and /alerts/recommendations', () => {
  it('lists the rules with their alerts per state and their last evaluation', async () => {
    const { router } = await setup();
    const body = await json(await call(router, '/alerts/rules', { headers: AUTH }));
    expect(body.rules.map((rule: { name: string }) => rule.name)).toEqual([
      'CheckoutSlow',
      'QueueBacklog',
      'DiskFull',
    ]);
    expect(body.rules[0]).toMatchObject({
      watch: 'function',
      definition: { name: 'CheckoutSlow', condition: { above: 800 }, severity: 'critical' },
      states: { firing: 1, pending: 0, inactive: 0 },
      lastEvaluatedAt: expect.any(String),
      deliveryFailures: 0,
    });
    expect(body.rules[1].states).toMatchObject({ pending: 1, firing: 0 });
    expect(body.rules[2].states).toMatchObject({ inactive: 1 });
  });

  it('recommends from the figures of the modules the instance has built', async () => {
    const { router, enterprise } = await setup();
    const statement = 'SELECT * FROM orders WHERE customer_id = ?';
    for (let i = 0; i < 3; i++) {
      enterprise.performance.record('db.query', 700, { labels: { statement } });
    }
    enterprise.performance.record('db.query', 50, { labels: { statement: 'SELECT 1' } });
    const response = await call(router, '/alerts/recommendations', { headers: AUTH });
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(Date.parse(body.at)).not.toBeNaN();
    expect(body.figures).toEqual({ performance: true, cache: false, tasks: false });
    expect(body.recommendations).toEqual([
      expect.objectContaining({
        id: `dominant-query:${statement}`,
        kind: 'dominant-query',
        severity: expect.stringMatching(/^(info|warning|critical)$/),
        title: expect.any(String),
        advice: expect.any(String),
        evidence: expect.objectContaining({ statement }),
      }),
    ]);
    // The cache and the tasks count once the application has built them; never before.
    expect(enterprise.peek('cache')).toBeUndefined();
    enterprise.cache;
    enterprise.tasks;
    const built = await json(await call(router, '/alerts/recommendations', { headers: AUTH }));
    expect(built.figures).toEqual({ performance: true, cache: true, tasks: true });
  });
});

describe('without the alerts module', () => {
  const endpoints: [string, string, unknown?][] = [
    ['GET', '/alerts'],
    ['GET', '/alerts/silences'],
    ['GET', '/alerts/rules'],
    ['GET', '/alerts/recommendations'],
    ['POST', '/alerts/0123456789abcdef/ack', { by: 'alice' }],
    ['POST', '/alerts/silences', { matchers: [{ name: 'a', value: 'b' }], duration: '1h' }],
    ['DELETE', '/alerts/silences/some-id'],
  ];

  it('answers 501 on every alerts endpoint, and 200 once the module is built', async () => {
    let built: Alerts | undefined;
    const enterprise = withAlerts(testEnterprise(), () => built);
    const router = createMonitoringRouter({ enterprise, auth: TOKEN });
    cleanup.push(async () => {
      await router.close();
      await enterprise.shutdown();
    });
    for (const [method, path, body] of endpoints) {
      const response = await call(router, path, {
        method,
        headers: JSON_AUTH,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(response.status, `${method} ${path}`).toBe(501);
      expect((await json(response)).error.code).toBe('E_MODULE_NOT_ENABLED');
    }
    expect((await json(await call(router, '/info', { headers: AUTH }))).modules.alerts).toBe(false);
    built = new Alerts({ logger: enterprise.logger, deliver: () => {} });
    expect((await call(router, '/alerts', { headers: AUTH })).status).toBe(200);
    expect((await call(router, '/alerts/rules', { headers: AUTH })).status).toBe(200);
    expect((await json(await call(router, '/info', { headers: AUTH }))).modules.alerts).toBe(true);
  });

  it('does not build the module (an instance observed is left as it is)', async () => {
    const enterprise = testEnterprise();
    const router = createMonitoringRouter({ enterprise, auth: TOKEN });
    cleanup.push(async () => {
      await router.close();
      await enterprise.shutdown();
    });
    for (const [method, path] of endpoints) {
      const response = await call(router, path, { method, headers: AUTH });
      await response.body?.cancel();
      expect(response.status, `${method} ${path}`).toBe(501);
    }
    expect(enterprise.peek('alerts')).toBeUndefined();
  });
});

describe('actions are protected', () => {
  it('require the token', async () => {
    const { router, alerts, fingerprint } = await setup();
    const fp = fingerprint('CheckoutSlow');
    const silence = await alerts.silence({
      matchers: [{ name: 'service', value: 'worker' }],
      duration: '1h',
      createdBy: 'test',
    });
    const anonymous: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }];
    for (const headers of anonymous) {
      const withBody = { ...headers, 'content-type': 'application/json' };
      const requests: [string, RequestInit & { headers: Record<string, string> }][] = [
        [`/alerts/${fp}/ack`, { method: 'POST', headers: withBody, body: '{"by":"mallory"}' }],
        [
          '/alerts/silences',
          {
            method: 'POST',
            headers: withBody,
            body: JSON.stringify({ matchers: [{ name: 'a', value: 'b' }], duration: '1h' }),
          },
        ],
        [`/alerts/silences/${silence.id}`, { method: 'DELETE', headers }],
        ['/alerts', { headers }],
        ['/alerts/recommendations', { headers }],
      ];
      for (const [path, init] of requests) {
        const response = await call(router, path, init);
        await response.body?.cancel();
        expect(response.status, `${init.method ?? 'GET'} ${path}`).toBe(401);
      }
    }
    expect(alerts.get(fp)?.acknowledged).toBeUndefined();
    expect((await alerts.silences()).map((s) => [s.id, s.status])).toEqual([
      [silence.id, 'active'],
    ]);
  });

  it('are refused when sent from another site', async () => {
    const { router, alerts, fingerprint } = await setup();
    const fp = fingerprint('CheckoutSlow');
    const silence = await alerts.silence({
      matchers: [{ name: 'service', value: 'worker' }],
      duration: '1h',
      createdBy: 'test',
    });
    const crossSite = await post(
      router,
      `/alerts/${fp}/ack`,
      { by: 'mallory' },
      {
        ...JSON_AUTH,
        'sec-fetch-site': 'cross-site',
      },
    );
    expect(crossSite.status).toBe(403);
    expect((await json(crossSite)).error.code).toBe('E_FORBIDDEN');
    const sameSite = await post(
      router,
      '/alerts/silences',
      { matchers: [{ name: 'service', value: 'checkout' }], duration: '1h' },
      { ...JSON_AUTH, 'sec-fetch-site': 'same-site' },
    );
    expect(sameSite.status).toBe(403);
    const otherOrigin = await call(router, `/alerts/silences/${silence.id}`, {
      method: 'DELETE',
      headers: { ...AUTH, origin: 'https://evil.example' },
    });
    expect(otherOrigin.status).toBe(403);
    expect(alerts.get(fp)?.acknowledged).toBeUndefined();
    expect((await alerts.silences()).map((s) => s.status)).toEqual(['active']);
    // The same requests from the dashboard's own origin go through.
    const own = await post(
      router,
      `/alerts/${fp}/ack`,
      { by: 'alice' },
      {
        ...JSON_AUTH,
        origin: 'http://monitoring.test',
        'sec-fetch-site': 'same-origin',
      },
    );
    expect(own.status).toBe(200);
  });
});

describe('the real-time stream over a real HTTP server', () => {
  async function serve(enterprise: Enterprise) {
    const router = createMonitoringRouter({ enterprise, auth: TOKEN, realtimeIntervalMs: 100 });
    const { server, url } = await listen(router);
    cleanup.push(async () => {
      await router.close();
      await closeServer(server);
      await enterprise.shutdown();
    });
    return { router, url };
  }

  async function connect(url: string) {
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
    const alertEvents = () =>
      reader.events
        .filter((event) => event.event === 'alert')
        .map((event) => ({
          id: event.id,
          ...(JSON.parse(event.data!) as AlertStreamEvent),
        }));
    return { reader, alertEvents, abort: () => controller.abort() };
  }

  it('sends each transition as `event: alert` when it happens, and counts alerts in the snapshots', async () => {
    const clock = manualClock();
    const { enterprise, alerts } = alertsEnterprise({ clock });
    let latency = 100;
    alerts.rule({
      name: 'CheckoutSlow',
      watch: () => latency,
      condition: { above: 800 },
      severity: 'critical',
    });
    await alerts.evaluate();
    const { router, url } = await serve(enterprise);
    const first = await connect(url);
    const second = await connect(url);
    await until(
      () => first.reader.snapshots().length >= 1 && second.reader.snapshots().length >= 1,
    );
    expect(first.reader.snapshots()[0]!.alerts).toEqual({
      enabled: true,
      total: 0,
      byState: { pending: 0, firing: 0, resolved: 0, nodata: 0, error: 0 },
      firingBySeverity: { critical: 0, warning: 0, info: 0 },
      silenced: 0,
      acknowledged: 0,
    });
    // One listener for every stream, not one per stream.
    expect(alerts.listenerCount('transition')).toBe(1);

    latency = 950;
    clock.advance(EVALUATION_MS);
    await alerts.evaluate();
    for (const client of [first, second]) {
      await until(() => client.alertEvents().length === 1);
      const [event] = client.alertEvents();
      expect(event).toMatchObject({
        transition: { rule: 'CheckoutSlow', from: 'inactive', to: 'firing', value: 950 },
        alert: { rule: 'CheckoutSlow', state: 'firing', severity: 'critical' },
      });
      expect(event!.alert.fingerprint).toBe(event!.transition.fingerprint);
      // Not numbered: the ids stay those of the snapshots.
      expect(event!.id).toBeUndefined();
    }
    await until(() => (first.reader.snapshots().at(-1)?.alerts?.byState.firing ?? 0) === 1);
    expect(first.reader.snapshots().at(-1)!.alerts).toMatchObject({
      total: 1,
      firingBySeverity: { critical: 1 },
    });
    const seqs = first.reader.snapshots().map((snapshot) => snapshot.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    // The listener stays while a stream is open, and goes with the last one.
    first.abort();
    await until(() => router.realtimeStatus().streams === 1);
    expect(alerts.listenerCount('transition')).toBe(1);
    second.abort();
    await until(() => router.realtimeStatus().streams === 0);
    expect(alerts.listenerCount('transition')).toBe(0);
    expect(router.realtimeStatus()).toEqual({ streams: 0, timers: 0 });
  });

  it('picks up an alerts module built after the stream opened', async () => {
    let built: Alerts | undefined;
    const enterprise = withAlerts(testEnterprise(), () => built);
    const { router, url } = await serve(enterprise);
    const client = await connect(url);
    await until(() => client.reader.snapshots().length >= 1);
    expect(client.reader.snapshots()[0]!.alerts).toMatchObject({ enabled: false, total: 0 });

    const alerts = new Alerts({ logger: enterprise.logger, deliver: () => {} });
    alerts.rule({ name: 'Always', watch: () => 1, condition: { above: 0 }, for: '1m' });
    built = alerts;
    await until(() => alerts.listenerCount('transition') === 1);
    await alerts.evaluate();
    await until(() => client.alertEvents().length === 1);
    expect(client.alertEvents()[0]!.transition).toMatchObject({ rule: 'Always', to: 'pending' });
    await until(() => client.reader.snapshots().at(-1)?.alerts?.byState.pending === 1);
    client.abort();
    await until(() => router.realtimeStatus().streams === 0);
    expect(alerts.listenerCount('transition')).toBe(0);
  });
});

describe('openapi.json', () => {
  it('documents the alerts endpoints with their bodies and schemas', async () => {
    const { router } = await setup();
    const doc = await json(await call(router, '/openapi.json', { headers: AUTH }));
    for (const name of ['Alert', 'Silence', 'AlertRuleSummary', 'Recommendation']) {
      expect(doc.components.schemas[name], name).toMatchObject({ type: 'object' });
    }
    expect(doc.paths['/alerts'].get.responses['200'].content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/AlertList',
    });
    expect(doc.paths['/alerts/silences'].post.requestBody).toMatchObject({
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/SilenceInput' } } },
    });
    expect(doc.paths['/alerts/{fingerprint}/ack'].post.requestBody.required).toBe(false);
    expect(Object.keys(doc.paths['/alerts/silences/{id}'])).toEqual(['delete']);
    expect(doc.components.schemas.MonitoringSnapshot.properties.alerts).toBeDefined();
  });
});

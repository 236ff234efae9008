// The reports and capacity endpoints through the real router: listed and generated reports in each
// format with the right headers, 400s naming the parameter, 501 before the module exists, auth, and
// answers that conform to the OpenAPI document.
import { afterEach, describe, expect, it } from 'vitest';
import type { EnterpriseOptions } from '../../src/index.js';
import { createMonitoringRouter, type MonitoringRouter } from '../../src/monitoring/index.js';
import { workload } from '../analytics/reports/helpers.js';
import { AUTH, call, conforms, json, TOKEN, testEnterprise } from './helpers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const HASH_KEY = 'a-test-hash-key-of-32-characters';

async function setup(options: EnterpriseOptions = {}) {
  const written = await workload(120);
  const enterprise = testEnterprise({
    alerts: false,
    analytics: { hashKey: HASH_KEY, history: { store: written.store } },
    reports: {
      definitions: {
        ops: {
          title: 'Ops',
          sections: ['performance', 'slowest', 'capacity'],
          period: '2h',
          formats: ['json', 'html', 'csv'],
        },
      },
    },
    ...options,
  });
  const router = createMonitoringRouter({ enterprise, auth: TOKEN });
  cleanup.push(async () => {
    await router.close();
    await enterprise.shutdown();
  });
  await enterprise.start({ workers: false });
  return { enterprise, router, written };
}

const get = (router: MonitoringRouter, path: string) => call(router, path, { headers: AUTH });

async function schemaOf(router: MonitoringRouter, path: string) {
  const doc = await json(await get(router, '/openapi.json'));
  return { doc, schema: doc.paths[path].get.responses['200'].content['application/json'].schema };
}

describe('GET /reports', () => {
  it('lists the reports defined, as the document says', async () => {
    const { router } = await setup();
    const response = await get(router, '/reports');
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body.reports).toEqual([
      expect.objectContaining({ name: 'ops', title: 'Ops', formats: ['json', 'html', 'csv'] }),
    ]);
    const { doc, schema } = await schemaOf(router, '/reports');
    expect(conforms(doc, body, schema)).toEqual([]);
  });

  it('answers 501 while the instance has no reports module, 401 without the token', async () => {
    const enterprise = testEnterprise({ alerts: false });
    const router = createMonitoringRouter({ enterprise, auth: TOKEN });
    cleanup.push(async () => {
      await router.close();
      await enterprise.shutdown();
    });
    const response = await get(router, '/reports');
    expect(response.status).toBe(501);
    expect((await json(response)).error.code).toBe('E_MODULE_NOT_ENABLED');
    expect((await get(router, '/analytics/capacity')).status).toBe(501);
    expect(enterprise.peek('reports')).toBeUndefined();
    expect((await call(router, '/reports')).status).toBe(401);
  });
});

describe('GET /reports/:name', () => {
  it('generates the report in each format', async () => {
    const { router, written } = await setup();
    const range = `from=${written.from}&to=${written.to}`;
    const asJson = await get(router, `/reports/ops?${range}`);
    expect(asJson.status).toBe(200);
    expect(asJson.headers.get('content-type')).toBe('application/json');
    const data = await json(asJson);
    expect(data.sections.map((s: { name: string }) => s.name)).toEqual([
      'performance',
      'slowest',
      'capacity',
    ]);
    expect(data.sections[0].figures[0]).toEqual({ label: 'Calls', value: 3000 });
    const { doc, schema } = await schemaOf(router, '/reports/{name}');
    expect(conforms(doc, data, schema)).toEqual([]);

    const html = await get(router, `/reports/ops?${range}&format=html`);
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html.headers.get('content-disposition')).toMatch(
      /^inline; filename="ops-\d{8}T\d{4}-\d{8}T\d{4}\.html"$/,
    );
    // Its own policy: inline styles, nothing loaded, nothing run.
    expect(html.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    const page = await html.text();
    expect(page).toContain('<svg');
    expect(page).not.toMatch(/<script/i);

    const csv = await get(router, `/reports/ops?${range}&format=csv`);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(await csv.text()).toContain(
      'Performance,figures\r\nfigure,value,unit\r\nCalls,3000,\r\n',
    );
    // The JSON answer keeps the API's strict policy.
    expect(asJson.headers.get('content-security-policy')).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
  });

  it('answers 400 naming the parameter', async () => {
    const { router } = await setup();
    const field = async (path: string) => {
      const response = await get(router, path);
      expect(response.status).toBe(400);
      const { error } = await json(response);
      expect(error.code).toBe('E_BAD_REQUEST');
      return error.field;
    };
    expect(await field('/reports/nightly')).toBe('name');
    expect(await field('/reports/ops?format=pdf')).toBe('format');
    expect(await field('/reports/ops?from=yesterday')).toBe('from');
    expect(await field('/reports/ops?from=2025-01-02&to=2025-01-01')).toBe('to');
    expect(await field('/reports/ops?from=2020-01-01&to=2025-01-01')).toBe('from');
    expect(await field(`/reports/ops?to=${'9'.repeat(300)}`)).toBe('to');
  });
});

describe('GET /analytics/capacity', () => {
  it('forecasts the watched resources from the history', async () => {
    const { router, enterprise } = await setup();
    expect(enterprise.peek('capacity')).toBeDefined();
    const response = await get(router, '/analytics/capacity?lookback=3h&horizon=7d');
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body).toMatchObject({
      model: 'holt-linear',
      lookbackMs: 10_800_000,
      horizonMs: 7 * 86_400_000,
    });
    const heap = body.resources.find(
      (r: { metric: string }) => r.metric === 'system.memory.heap_used',
    );
    expect(heap.trendPerHour).toBeGreaterThan(20e6);
    // The two hours written end on the last whole hour: all of them are within the lookback.
    expect(heap.points).toBeGreaterThanOrEqual(120);
    const queue = body.resources.find(
      (r: { metric: string }) => r.metric === 'tasks.queue.waiting',
    );
    expect(queue).toMatchObject({ labels: { queue: 'emails' }, limit: 10_000 });
    const { doc, schema } = await schemaOf(router, '/analytics/capacity');
    expect(conforms(doc, body, schema)).toEqual([]);
  });

  it('answers 400 naming a bad parameter', async () => {
    const { router } = await setup();
    for (const [query, field] of [
      ['lookback=soon', 'lookback'],
      ['horizon=1s', 'horizon'],
      ['confidence=2', 'confidence'],
    ]) {
      const response = await get(router, `/analytics/capacity?${query}`);
      expect(response.status).toBe(400);
      expect((await json(response)).error.field).toBe(field);
    }
  });
});

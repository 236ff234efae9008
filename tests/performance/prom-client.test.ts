import client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, registerPrometheus } from '../../src/index.js';
import { registerPrometheus as fromSubpath } from '../../src/performance/index.js';
import { callFor, failsAfter, setup, takes } from './helpers.js';
import { parsePrometheus } from './prometheus-text.js';

const OURS = [
  'enterprise_operation_duration_seconds',
  'enterprise_operation_errors_total',
  'enterprise_operation_slow_calls_total',
  'enterprise_operations_tracked',
  'enterprise_operations_tracked_max',
];

/** prom-client 15 takes the content type in the constructor, but its typings omit the parameter. */
function openMetricsRegistry(): client.Registry<client.OpenMetricsContentType> {
  const Registry = client.Registry as unknown as new (
    contentType: client.OpenMetricsContentType,
  ) => client.Registry<client.OpenMetricsContentType>;
  const registry = new Registry(client.Registry.OPENMETRICS_CONTENT_TYPE);
  expect(registry.contentType).toBe(client.Registry.OPENMETRICS_CONTENT_TYPE);
  return registry;
}

function busyMonitor() {
  const s = setup({ performance: { alertThresholdMs: 100 } });
  const { monitor, clock } = s;
  callFor(monitor, clock, 'db.query', 3);
  callFor(monitor, clock, 'db.query', 250);
  expect(() => monitor.context('db.query', failsAfter(clock, 20, new Error('x')))).toThrow();
  monitor.wrap('http', takes(clock, 40), { labels: { route: '/users/:id' } })();
  return s;
}

describe('registerPrometheus(monitor, registry)', () => {
  it('is exported from the root and the /performance entry', () => {
    expect(fromSubpath).toBe(registerPrometheus);
  });

  it('serves our families, with the values of toPrometheus(), from a prom-client registry', async () => {
    const { monitor } = busyMonitor();
    const registry = new client.Registry();
    registerPrometheus(monitor, registry);
    const text = await registry.metrics();
    const families = parsePrometheus(text);
    expect(
      families
        .map((f) => f.name)
        .filter((name) => !/_(cache|security|analytics|circuit)_/.test(name)),
    ).toEqual(OURS);
    // The same families, types and samples as our own renderer.
    const ours = parsePrometheus(monitor.toPrometheus());
    expect(families.map((f) => [f.name, f.type, f.help, f.samples])).toEqual(
      ours.map((f) => [f.name, f.type, f.help, f.samples]),
    );
    const errors = families.find((f) => f.name === 'enterprise_operation_errors_total')!;
    expect(errors.type).toBe('counter');
    expect(errors.samples).toEqual([
      { name: 'enterprise_operation_errors_total', labels: { operation: 'db.query' }, value: 1 },
      {
        name: 'enterprise_operation_errors_total',
        labels: { operation: 'http', route: '/users/:id' },
        value: 0,
      },
    ]);
    expect(text).toContain(
      'enterprise_operation_duration_seconds_bucket{operation="db.query",le="0.1"} 2',
    );
    expect(text).toContain('enterprise_operation_duration_seconds_count{operation="db.query"} 3');
    expect(text).toContain('enterprise_operation_slow_calls_total{operation="db.query"} 1');
  });

  it('reads the values at scrape time', async () => {
    const { monitor, clock } = busyMonitor();
    const registry = new client.Registry();
    registerPrometheus(monitor, registry);
    const count = async () => {
      const json = await registry.getMetricsAsJSON();
      const duration = json.find((m) => m.name === 'enterprise_operation_duration_seconds')!;
      return duration.values.find(
        (v) =>
          (v as { metricName?: string }).metricName ===
            'enterprise_operation_duration_seconds_count' && v.labels.operation === 'db.query',
      )?.value;
    };
    expect(await count()).toBe(3);
    callFor(monitor, clock, 'db.query', 1);
    callFor(monitor, clock, 'db.query', 1);
    expect(await count()).toBe(5);
  });

  it('works beside prom-client’s own metrics in the same registry', async () => {
    const { monitor } = busyMonitor();
    const registry = new client.Registry();
    const requests = new client.Counter({
      name: 'app_requests_total',
      help: 'Requests served.',
      labelNames: ['route'],
      registers: [registry],
    });
    requests.inc({ route: '/a' }, 3);
    const latency = new client.Histogram({
      name: 'app_latency_seconds',
      help: 'Latency.',
      buckets: [0.1, 1],
      registers: [registry],
    });
    latency.observe(0.5);
    client.collectDefaultMetrics({ register: registry, prefix: 'app_' });
    registry.setDefaultLabels({ service: 'checkout' });
    registerPrometheus(monitor, registry);

    const text = await registry.metrics();
    const families = parsePrometheus(text);
    const names = families.map((f) => f.name);
    for (const name of [...OURS, 'app_requests_total', 'app_latency_seconds']) {
      expect(names).toContain(name);
    }
    expect(names).toContain('app_process_cpu_user_seconds_total');
    expect(text).toContain('app_requests_total{route="/a",service="checkout"} 3');
    // prom-client's default labels apply to our samples too.
    expect(text).toContain(
      'enterprise_operation_errors_total{operation="db.query",service="checkout"} 1',
    );
    expect(new Set(names).size).toBe(names.length);
  });

  it('the returned function unregisters our metrics and leaves the others', async () => {
    const { monitor } = busyMonitor();
    const registry = new client.Registry();
    new client.Gauge({ name: 'app_up', help: 'Up.', registers: [registry] }).set(1);
    const unregister = registerPrometheus(monitor, registry);
    expect(await registry.metrics()).toContain('enterprise_');
    unregister();
    const text = await registry.metrics();
    expect(text).not.toContain('enterprise_');
    expect(text).toContain('app_up 1');
    for (const name of OURS) expect(registry.getSingleMetric(name)).toBeUndefined();
    // Registering again after unregistering works (no "already registered" error).
    const again = registerPrometheus(monitor, registry);
    expect(await registry.metrics()).toContain('enterprise_operation_errors_total');
    again();
  });

  it('registering twice in the same registry fails loudly instead of duplicating series', () => {
    const { monitor } = busyMonitor();
    const registry = new client.Registry();
    registerPrometheus(monitor, registry);
    expect(() => registerPrometheus(setup().monitor, registry)).toThrow(/already been registered/);
  });

  it('an OpenMetrics registry gets counters named once with _total (no _total_total)', async () => {
    const { monitor } = busyMonitor();
    const registry = openMetricsRegistry();
    new client.Counter({ name: 'app_jobs_total', help: 'Jobs.', registers: [registry] }).inc();
    registerPrometheus(monitor, registry);
    const text = await registry.metrics();
    expect(text).not.toContain('_total_total');
    expect(text.endsWith('# EOF\n')).toBe(true);
    // OpenMetrics names the counter family without the suffix and its samples with it.
    expect(text).toContain('# TYPE enterprise_operation_errors counter');
    expect(text).toContain('enterprise_operation_errors_total{operation="db.query"} 1');
    expect(text).toContain('enterprise_operation_slow_calls_total{operation="db.query"} 1');
    expect(text).toContain('# TYPE enterprise_operation_duration_seconds histogram');
    expect(text).toContain('app_jobs_total 1');
  });

  it('follows a registry switched between the two formats', async () => {
    const { monitor } = busyMonitor();
    const registry = new client.Registry<client.RegistryContentType>();
    registerPrometheus(monitor, registry);
    registry.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
    expect(await registry.metrics()).not.toContain('_total_total');
    registry.setContentType(client.Registry.PROMETHEUS_CONTENT_TYPE);
    expect(await registry.metrics()).toContain('# TYPE enterprise_operation_errors_total counter');
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['an empty object', {}],
    ['a string', 'registry'],
    ['the prom-client module', client],
    ['an object with registerMetric only', { registerMetric() {} }],
  ])('throws InvalidArgumentError for %s instead of a registry', (_, value) => {
    const { monitor } = setup();
    let caught: unknown;
    try {
      registerPrometheus(monitor, value as never);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    expect((caught as InvalidArgumentError).code).toBe('E_INVALID_ARGUMENT');
  });
});

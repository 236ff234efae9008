import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createEnterprise, DEFAULT_BUCKETS, withContext } from '../../src/index.js';
import { promtool, requires } from '../support/requirements.js';
import { callFor, failsAfter, setup, takes } from './helpers.js';
import { type Family, parsePrometheus } from './prometheus-text.js';

const DURATION = 'enterprise_operation_duration_seconds';

function families(text: string): Map<string, Family> {
  return new Map(parsePrometheus(text).map((f) => [f.name, f]));
}

function seriesOf(family: Family, suffix: string, labels: Record<string, string>) {
  return family.samples.filter(
    (s) =>
      s.name === `${family.name}${suffix}` &&
      Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  );
}

describe('toPrometheus()', () => {
  it('declares every family with HELP and TYPE before the first call', () => {
    const { monitor } = setup();
    const parsed = families(monitor.toPrometheus());
    // The performance module's own families; the cache and security modules add theirs after them.
    expect(
      [...parsed.keys()].filter((name) => !/_(cache|security|analytics|circuit)_/.test(name)),
    ).toEqual([
      DURATION,
      'enterprise_operation_errors_total',
      'enterprise_operation_slow_calls_total',
      'enterprise_operations_tracked',
      'enterprise_operations_tracked_max',
    ]);
    for (const family of parsed.values()) {
      expect(family.help, family.name).toMatch(/\S/);
      expect(family.type, family.name).toMatch(/^(counter|gauge|histogram)$/);
    }
    expect(parsed.get(DURATION)!.type).toBe('histogram');
    expect(parsed.get(DURATION)!.samples).toEqual([]);
    expect(parsed.get('enterprise_operations_tracked')!.samples[0]!.value).toBe(0);
    expect(parsed.get('enterprise_operations_tracked_max')!.samples[0]!.value).toBe(10_000);
  });

  it('HELP comes before TYPE, and each family appears once', () => {
    const { monitor, clock } = setup();
    callFor(monitor, clock, 'op', 1);
    const lines = monitor.toPrometheus().split('\n');
    const seen = new Set<string>();
    lines.forEach((line, i) => {
      const help = /^# HELP (\S+) /.exec(line);
      if (help) {
        expect(seen.has(help[1]!), `${help[1]} declared twice`).toBe(false);
        seen.add(help[1]!);
        expect(lines[i + 1]).toMatch(new RegExp(`^# TYPE ${help[1]} (counter|gauge|histogram)$`));
      }
    });
    expect(
      [...seen].filter((name) => !/_(cache|security|analytics|circuit)_/.test(name)),
    ).toHaveLength(5);
    expect([...seen].filter((name) => name.includes('_cache_')).length).toBeGreaterThan(0);
  });

  it('renders a cumulative duration histogram in seconds, with +Inf equal to _count', () => {
    const { monitor, clock } = setup({ performance: { alertThresholdMs: 1_000 } });
    // 1 ms and 5 ms sit exactly on bucket bounds: `le` is inclusive.
    const durations = [0.5, 1, 3, 5, 7, 120, 2_000, 20_000];
    for (const ms of durations) callFor(monitor, clock, 'db.query', ms);
    const duration = families(monitor.toPrometheus()).get(DURATION)!;
    const buckets = seriesOf(duration, '_bucket', { operation: 'db.query' });
    expect(buckets.map((b) => b.labels.le)).toEqual([
      ...DEFAULT_BUCKETS.map((b) => String(b)),
      '+Inf',
    ]);
    expect(buckets.map((b) => b.labels.le)).toEqual([
      '0.001',
      '0.0025',
      '0.005',
      '0.01',
      '0.025',
      '0.05',
      '0.1',
      '0.25',
      '0.5',
      '1',
      '2.5',
      '5',
      '10',
      '+Inf',
    ]);
    const expected = [...DEFAULT_BUCKETS, Number.POSITIVE_INFINITY].map(
      (bound) => durations.filter((ms) => ms / 1000 <= bound).length,
    );
    expect(buckets.map((b) => b.value)).toEqual(expected);
    expect(expected).toEqual([2, 2, 4, 5, 5, 5, 5, 6, 6, 6, 7, 7, 7, 8]);
    for (let i = 1; i < buckets.length; i++) {
      expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    }
    const [count] = seriesOf(duration, '_count', { operation: 'db.query' });
    const [sum] = seriesOf(duration, '_sum', { operation: 'db.query' });
    expect(count!.value).toBe(durations.length);
    expect(buckets.at(-1)!.value).toBe(count!.value);
    expect(sum!.value).toBeCloseTo(durations.reduce((a, b) => a + b, 0) / 1000, 9);
  });

  it('counts errors and slow calls in counters whose names end with _total', () => {
    const { monitor, clock } = setup({ performance: { alertThresholdMs: 100 } });
    callFor(monitor, clock, 'pay', 50);
    callFor(monitor, clock, 'pay', 150);
    expect(() => monitor.context('pay', failsAfter(clock, 200, new Error('declined')))).toThrow();
    expect(() => monitor.context('pay', failsAfter(clock, 10, 'timeout'))).toThrow();
    const parsed = families(monitor.toPrometheus());
    for (const family of parsed.values()) {
      if (family.type === 'counter') expect(family.name).toMatch(/_total$/);
      else expect(family.name).not.toMatch(/_total$/);
    }
    const value = (name: string) =>
      parsed.get(name)!.samples.find((s) => s.labels.operation === 'pay')!.value;
    expect(value('enterprise_operation_errors_total')).toBe(2);
    expect(value('enterprise_operation_slow_calls_total')).toBe(2);
    expect(parsed.get('enterprise_operations_tracked')!.samples[0]!.value).toBe(1);
  });

  it('one series per operation and label set, with the operation label first', () => {
    const { monitor, clock } = setup();
    monitor.wrap('http', takes(clock, 1), { labels: { route: '/a', method: 'GET' } })();
    monitor.wrap('http', takes(clock, 1), { labels: { route: '/b', method: 'GET' } })();
    callFor(monitor, clock, 'plain', 1);
    const text = monitor.toPrometheus();
    expect(text).toContain(
      'enterprise_operation_errors_total{operation="http",method="GET",route="/a"} 0\n',
    );
    expect(text).toContain('enterprise_operation_errors_total{operation="plain"} 0\n');
    const errors = families(text).get('enterprise_operation_errors_total')!;
    expect(errors.samples.map((s) => s.labels)).toEqual([
      { operation: 'http', method: 'GET', route: '/a' },
      { operation: 'http', method: 'GET', route: '/b' },
      { operation: 'plain' },
    ]);
    expect(families(text).get('enterprise_operations_tracked')!.samples[0]!.value).toBe(3);
  });

  it('escapes quotes, backslashes and newlines in operation names and label values', () => {
    const { monitor, clock } = setup();
    const name = 'say "hi" \\ C:\\path\nnext line';
    const labelValue = 'quote " backslash \\ newline \n end';
    callFor(monitor, clock, name, 1);
    monitor.wrap('labelled', takes(clock, 1), { labels: { q: labelValue } })();
    const text = monitor.toPrometheus();
    expect(text).toContain(
      'enterprise_operation_errors_total{operation="say \\"hi\\" \\\\ C:\\\\path\\nnext line"} 0\n',
    );
    expect(text).toContain(
      'enterprise_operation_errors_total{operation="labelled",q="quote \\" backslash \\\\ newline \\n end"} 0\n',
    );
    // Every line is one sample or one comment: no raw newline leaked out of a label.
    for (const line of text.trimEnd().split('\n')) {
      expect(line).toMatch(/^(# (HELP|TYPE) |[a-zA-Z_:][a-zA-Z0-9_:]*[{ ])/);
    }
    const errors = families(text).get('enterprise_operation_errors_total')!;
    expect(errors.samples.map((s) => s.labels)).toEqual([
      { operation: name },
      { operation: 'labelled', q: labelValue },
    ]);
  });

  it('uses the prefix and buckets from the options', () => {
    const { monitor, clock } = setup({
      performance: { prometheus: { prefix: 'myapp_', buckets: [0.01, 0.1, 1] }, maxMetrics: 7 },
    });
    callFor(monitor, clock, 'op', 50);
    callFor(monitor, clock, 'op', 5);
    const text = monitor.toPrometheus();
    expect(text).not.toContain('enterprise_');
    const parsed = families(text);
    expect(
      [...parsed.keys()].filter((name) => !/_(cache|security|analytics|circuit)_/.test(name)),
    ).toEqual([
      'myapp_operation_duration_seconds',
      'myapp_operation_errors_total',
      'myapp_operation_slow_calls_total',
      'myapp_operations_tracked',
      'myapp_operations_tracked_max',
    ]);
    const buckets = seriesOf(parsed.get('myapp_operation_duration_seconds')!, '_bucket', {});
    expect(buckets.map((b) => [b.labels.le, b.value])).toEqual([
      ['0.01', 1],
      ['0.1', 2],
      ['1', 2],
      ['+Inf', 2],
    ]);
    expect(parsed.get('myapp_operations_tracked_max')!.samples[0]!.value).toBe(7);
  });

  it('accepts an empty prefix', () => {
    const { monitor, clock } = setup({ performance: { prometheus: { prefix: '' } } });
    callFor(monitor, clock, 'op', 1);
    expect([...families(monitor.toPrometheus()).keys()]).toContain('operation_duration_seconds');
  });

  it('counters and histograms are all-time, so they never decrease as windows roll', () => {
    const { monitor, clock } = setup();
    for (let i = 0; i < 5; i++) callFor(monitor, clock, 'op', 2);
    const before = monitor.toPrometheus();
    clock.advance(30 * 60_000);
    expect(monitor.toPrometheus()).toBe(before);
    callFor(monitor, clock, 'op', 2);
    const duration = families(monitor.toPrometheus()).get(DURATION)!;
    expect(seriesOf(duration, '_count', { operation: 'op' })[0]!.value).toBe(6);
  });
});

describe.runIf(requires(promtool))('promtool check metrics', () => {
  const directory = mkdtempSync(join(tmpdir(), 'revcopy-promtool-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  function promtoolCheck(text: string, file: string) {
    const path = join(directory, file);
    writeFileSync(path, text);
    const result = spawnSync('sh', ['-c', 'promtool check metrics < "$1"', 'sh', path], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}`, path };
  }

  it('accepts a full exposition (operations, labels, errors, slow calls, system metrics) without any lint', async () => {
    const enterprise = createEnterprise({
      logLevel: 'silent',
      env: {},
      performance: { alertThresholdMs: 5, systemMetrics: { intervalMs: 100 } },
    });
    const monitor = enterprise.performance;
    await enterprise.start();
    try {
      // Garbage, so the GC counters have samples.
      let keep: unknown[] = [];
      for (let i = 0; i < 200_000; i++) keep.push({ i, s: `item-${i}` });
      keep = [];
      await withContext({ correlationId: 'req-1' }, async () => {
        await monitor.context('http.request', async () => {
          await monitor.wrap('db.query', async () => sleep(8), { labels: { table: 'users' } })();
          monitor.wrap('db.query', () => 1, { labels: { table: 'orders' } })();
          await monitor.context('cache.get', () => sleep(1));
        });
      });
      await expect(
        monitor.wrap('payment', async () => Promise.reject(new Error('declined')), {
          labels: { provider: 'stripe', status_class: '5xx' },
        })(),
      ).rejects.toThrow('declined');
      expect(() =>
        monitor.context('odd "name" \\ with\nnewline', () => {
          throw new Error('x');
        }),
      ).toThrow();
      await sleep(350);
      const text = monitor.toPrometheus();
      expect(text).toContain('enterprise_process_cpu_seconds_total');
      expect(text).toContain('enterprise_nodejs_gc_runs_total{kind=');
      const { status, output, path } = promtoolCheck(text, 'full.prom');
      expect(output, `promtool output for ${path}`).toBe('');
      expect(status).toBe(0);
      void keep;
    } finally {
      await enterprise.shutdown();
    }
  });

  it('accepts the exposition of a fresh monitor and one with a custom prefix and buckets', () => {
    const fresh = setup();
    const custom = setup({
      performance: { prometheus: { prefix: 'svc_', buckets: [0.005, 0.05, 0.5, 5] } },
    });
    callFor(custom.monitor, custom.clock, 'op', 3);
    for (const [file, text] of [
      ['fresh.prom', fresh.monitor.toPrometheus()],
      ['custom.prom', custom.monitor.toPrometheus()],
    ] as const) {
      const { status, output } = promtoolCheck(text, file);
      expect(output, file).toBe('');
      expect(status, file).toBe(0);
    }
  });
});

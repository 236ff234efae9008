// Reports over a synthetic metrics history whose totals are known: definitions and their errors,
// the built-in sections against what was written, custom sections, failures kept to their section,
// ranges and formats refused with the parameter named, and runs written to a directory.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CapacityPlanner } from '../../../src/analytics/capacity/planner.js';
import {
  ReportConfigError,
  type ReportData,
  ReportQueryError,
  Reports,
} from '../../../src/analytics/reports/index.js';
import { createDefaultLogger } from '../../../src/core/logger.js';
import { HEAP_BASE, HEAP_SLOPE, MINUTE, workload } from './helpers.js';

const logger = createDefaultLogger('silent');
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const section = (data: ReportData, name: string) => data.sections.find((s) => s.name === name)!;
const figure = (data: ReportData, name: string, label: string) =>
  section(data, name).figures?.find((f) => f.label === label)?.value;

describe('report definitions', () => {
  const reports = new Reports({ logger });

  it('names the option that is wrong', () => {
    const field = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(ReportConfigError);
        return (error as ReportConfigError).context.field;
      }
      return 'no error';
    };
    expect(field(() => reports.define('daily', { sections: ['perfromance'] }))).toBe('sections[0]');
    expect(field(() => reports.define('daily', { sections: [] }))).toBe('sections');
    expect(field(() => reports.define('bad name!', { sections: ['performance'] }))).toBe('name');
    expect(
      field(() => reports.define('daily', { sections: ['cache'], formats: ['pdf' as 'html'] })),
    ).toBe('formats');
    expect(
      field(() => reports.define('daily', { sections: ['cache'], period: 'fortnight' as 'day' })),
    ).toBe('period');
    expect(field(() => reports.define('daily', { sections: ['cache', 'cache'] }))).toBe(
      'sections[1]',
    );
    expect(
      field(() => reports.define('daily', { sections: ['cache'], schedule: 'tomorrow' })),
    ).toBe('schedule');
    // No scheduler and no channel delivery were given to this object.
    expect(
      field(() => reports.define('daily', { sections: ['cache'], schedule: '0 8 * * *' })),
    ).toBe('schedule');
    expect(
      field(() => reports.define('daily', { sections: ['cache'], deliver: [{ channel: 'ops' }] })),
    ).toBe('deliver');
    expect(
      field(() =>
        reports.define('daily', { sections: ['cache'], deliver: [{ to: 'x' } as never] }),
      ),
    ).toBe('deliver[0]');
  });

  it('lists what is defined', () => {
    const info = reports.define('weekly', {
      title: 'Weekly',
      sections: ['performance', 'capacity'],
      period: 'week',
      formats: ['json', 'html'],
    });
    expect(info).toEqual({
      name: 'weekly',
      title: 'Weekly',
      sections: ['performance', 'capacity'],
      periodMs: 7 * 86_400_000,
      formats: ['json', 'html'],
      schedule: null,
      deliver: [],
      lastRun: null,
    });
    expect(reports.list().map((r) => r.name)).toContain('weekly');
    expect(reports.sections()).toEqual(
      expect.arrayContaining([
        'performance',
        'trends',
        'slowest',
        'database',
        'system',
        'cache',
        'tasks',
        'analytics',
        'capacity',
      ]),
    );
  });
});

describe('generated reports', () => {
  it('answer what the history holds, section by section', async () => {
    const written = await workload(120);
    const capacity = new CapacityPlanner({
      history: written.store,
      limits: [
        {
          metric: 'system.memory.heap_used',
          limit: HEAP_BASE + HEAP_SLOPE * 600,
          name: 'heap',
          unit: 'bytes',
        },
      ],
      lookback: '2h',
    });
    const reports = new Reports({ history: written.store, capacity: () => capacity, logger });
    reports.define('ops', {
      sections: [
        'performance',
        'trends',
        'slowest',
        'database',
        'system',
        'cache',
        'tasks',
        'capacity',
        'analytics',
      ],
      period: '2h',
      formats: ['json', 'csv', 'html'],
    });
    const { data, contentType, filename } = await reports.generate('ops', {
      from: written.from,
      to: written.to,
    });
    expect(contentType).toBe('application/json');
    expect(filename).toMatch(/^ops-\d{8}T\d{4}-\d{8}T\d{4}\.json$/);
    const calls = written.calls['GET /users']! + written.calls['POST /orders']!;
    expect(figure(data, 'performance', 'Calls')).toBe(calls);
    expect(figure(data, 'performance', 'Errors')).toBe(written.errors);
    const operations = section(data, 'performance').tables![0]!;
    expect(operations.rows.map((r) => r[0])).toEqual(['GET /users', 'POST /orders']);
    expect(section(data, 'performance').charts![0]!.series[0]!.points.length).toBeGreaterThan(10);
    // POST /orders takes 150 to 250 ms: it is the slowest, with a p95 in that range.
    const slowest = section(data, 'slowest').tables![0]!.rows[0]!;
    expect(slowest[0]).toBe('POST /orders');
    expect(slowest[7]).toBeGreaterThan(150);
    expect(slowest[7]).toBeLessThan(260);
    // The statement with the most time first; database queries are not operations of the service.
    expect(section(data, 'database').tables![0]!.rows.map((r) => [r[0], r[1]])).toEqual([
      ['UPDATE orders SET state = ? WHERE id = ?', 240],
      ['SELECT * FROM users WHERE id = ?', 360],
    ]);
    expect(figure(data, 'cache', 'Hits')).toBe(written.hits);
    expect(figure(data, 'cache', 'Hit ratio')).toBeCloseTo(
      (100 * written.hits) / (written.hits + written.misses),
      0,
    );
    expect(figure(data, 'tasks', 'Completed')).toBe(7 * 120);
    expect(section(data, 'tasks').tables![0]!.rows).toEqual([
      ['emails', expect.any(Number), 129, 0],
    ]);
    // Nothing was recorded before the range: the trends say so rather than invent a change.
    expect(figure(data, 'trends', 'Calls, previous period')).toBe(0);
    const forecast = section(data, 'capacity').tables![0]!.rows[0]!;
    expect(forecast[0]).toBe('heap');
    expect(forecast[1]).toMatch(/warning|critical/);
    expect(section(data, 'analytics').notes![0]).toMatch(/not enabled/);
    expect(data.sections.every((s) => s.error === undefined)).toBe(true);
  });

  it('compares with the previous period', async () => {
    const written = await workload(120);
    const reports = new Reports({ history: written.store, logger });
    reports.define('hour', { sections: ['trends'], period: '1h' });
    const { data } = await reports.generate('hour', { to: written.to, format: 'json' });
    const rows = section(data, 'trends').tables![0]!.rows;
    const users = rows.find((r) => r[0] === 'GET /users')!;
    expect(users[1]).toBe(20 * 60);
    expect(users[2]).toBe(20 * 60);
    expect(users[3]).toBe(0);
  });

  it('runs custom sections, and keeps a failure or a timeout to its own section', async () => {
    const reports = new Reports({ logger, sectionTimeout: '200ms' });
    let seen: unknown;
    reports.define('custom', {
      sections: [
        {
          name: 'orders',
          title: 'Orders',
          collect: (ctx) => {
            seen = ctx;
            return [
              { country: 'FR', orders: 700 },
              { country: 'DE', orders: 504, note: 'a, "quoted"\nline' },
            ];
          },
        },
        { name: 'revenue', collect: async () => ({ total: 12.5, currency: 'EUR' }) },
        {
          name: 'broken',
          collect: () => {
            throw new Error('database is down');
          },
        },
        { name: 'slow', collect: () => new Promise(() => undefined) },
        {
          name: 'shaped',
          collect: () => ({ summary: 'All good.', figures: [{ label: 'Signups', value: 3 }] }),
        },
      ],
      period: '1h',
    });
    const { data } = await reports.generate('custom', { format: 'json' });
    expect(seen).toMatchObject({ report: 'custom', stepMs: MINUTE });
    expect(section(data, 'orders').tables![0]).toEqual({
      title: '',
      columns: ['country', 'orders', 'note'],
      rows: [
        ['FR', 700, null],
        ['DE', 504, 'a, "quoted"\nline'],
      ],
    });
    expect(section(data, 'revenue').figures).toEqual([
      { label: 'total', value: 12.5 },
      { label: 'currency', value: 'EUR' },
    ]);
    expect(section(data, 'broken').error).toBe('database is down');
    expect(section(data, 'slow').error).toMatch(/timed out after 200 ms/);
    expect(section(data, 'shaped')).toMatchObject({
      summary: 'All good.',
      figures: [{ label: 'Signups', value: 3 }],
    });
  });

  it('refuses a bad request, naming the parameter', async () => {
    const reports = new Reports({ logger });
    reports.define('daily', { sections: ['cache'], formats: ['html', 'json'] });
    const parameter = (promise: Promise<unknown>) =>
      promise.then(
        () => 'no error',
        (error: ReportQueryError) =>
          error instanceof ReportQueryError ? error.context.parameter : error,
      );
    expect(await parameter(reports.generate('nightly'))).toBe('name');
    expect(await parameter(reports.generate('daily', { format: 'csv' }))).toBe('format');
    expect(await parameter(reports.generate('daily', { from: 'yesterday' }))).toBe('from');
    expect(await parameter(reports.generate('daily', { to: 'soon' }))).toBe('to');
    expect(
      await parameter(reports.generate('daily', { from: '2025-01-02', to: '2025-01-01' })),
    ).toBe('to');
    expect(
      await parameter(reports.generate('daily', { from: '2020-01-01', to: '2025-01-01' })),
    ).toBe('from');
    expect((await reports.generate('daily')).contentType).toBe('text/html; charset=utf-8');
  });

  it('writes every format to a directory on run()', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reports-'));
    dirs.push(dir);
    const written = await workload(30);
    const reports = new Reports({ history: written.store, logger });
    reports.define('daily', {
      sections: ['performance'],
      period: '30m',
      deliver: [{ directory: join(dir, 'out') }],
    });
    const result = await reports.run('daily', { to: written.to });
    expect(result).toMatchObject({
      name: 'daily',
      delivered: [`directory:${join(dir, 'out')}`],
      failed: [],
    });
    const files = (await readdir(join(dir, 'out'))).sort();
    expect(files.map((f) => f.split('.').pop())).toEqual(['csv', 'html', 'json']);
    const json = JSON.parse(await readFile(join(dir, 'out', files[2]!), 'utf8')) as ReportData;
    expect(figure(json, 'performance', 'Calls')).toBe(25 * 30);
    expect(reports.get('daily')!.lastRun).toMatchObject({
      delivered: [`directory:${join(dir, 'out')}`],
    });
  });

  it('lists a target that failed and delivers the others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reports-'));
    dirs.push(dir);
    const sent: string[] = [];
    const reports = new Reports({
      logger,
      delivery: {
        send: async (channel, message) => {
          if (channel === 'down') throw new Error('connection refused');
          sent.push(`${channel}:${message.kind}:${message.json.name}`);
        },
      },
    });
    reports.define('daily', {
      sections: ['cache'],
      deliver: [{ channel: 'down' }, { channel: 'ops' }, { directory: join(dir, 'd') }],
    });
    const result = await reports.run('daily');
    expect(result.delivered).toEqual(['channel:ops', `directory:${join(dir, 'd')}`]);
    expect(result.failed).toEqual([
      { target: 'channel:down', error: expect.stringMatching(/connection refused/) },
    ]);
    expect(sent).toEqual(['ops:report:daily']);
  });
});

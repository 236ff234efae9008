import { afterEach, describe, expect, it } from 'vitest';
import {
  createEnterprise,
  type Enterprise,
  type EnterpriseOptions,
  health,
  MAINTENANCE_TASKS,
  MaintenanceConfigError,
} from '../../src/index.js';
import { createMonitoringRouter } from '../../src/monitoring/index.js';
import { AUTH, call, conforms, json, silent, TOKEN, until } from '../monitoring/helpers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

function instance(options: EnterpriseOptions = {}): Enterprise {
  const enterprise = createEnterprise({ logger: silent, env: {}, alerts: false, ...options });
  cleanup.push(() => enterprise.shutdown());
  return enterprise;
}

const SEED_NAMES = [
  'cleanup_completed_tasks',
  'cleanup_performance_metrics',
  'optimize_database',
  'cache_warming',
  'cleanup_old_content',
  'system_health_check',
  'generate_analytics_report',
];

describe('maintenance.enable()', () => {
  it('registers the seven tasks under the seed names and schedules each on its default cron', async () => {
    const enterprise = instance({ maintenance: {} });
    await enterprise.start({ workers: false });
    expect([...MAINTENANCE_TASKS]).toEqual(SEED_NAMES);
    const schedules = enterprise.tasks.scheduler.list();
    for (const name of SEED_NAMES) {
      const schedule = schedules.find((s) => s.taskName === name);
      expect(schedule?.cron, name).toBeTypeOf('string');
    }
    expect(schedules.find((s) => s.taskName === 'optimize_database')?.cron).toBe('0 2 * * *');
    const list = enterprise.maintenance.list();
    expect(list.map((t) => t.name)).toEqual(SEED_NAMES);
    expect(list.every((t) => t.nextRunAt !== null && t.lastResult === null)).toBe(true);
  });

  it('takes a cron per task, leaves out a task given false, and unschedules one at run time', async () => {
    const enterprise = instance();
    await enterprise.start({ workers: false });
    enterprise.maintenance.enable({
      optimize_database: { schedule: '0 3 * * 0' },
      cache_warming: { schedule: false },
      generate_analytics_report: false,
    });
    const byTask = () => new Map(enterprise.tasks.scheduler.list().map((s) => [s.taskName, s]));
    expect(byTask().get('optimize_database')?.cron).toBe('0 3 * * 0');
    expect(byTask().has('cache_warming')).toBe(false);
    expect(byTask().has('generate_analytics_report')).toBe(false);
    expect(enterprise.maintenance.list().map((t) => t.name)).not.toContain(
      'generate_analytics_report',
    );
    enterprise.maintenance.schedule('system_health_check', false);
    expect(byTask().has('system_health_check')).toBe(false);
    enterprise.maintenance.schedule('system_health_check', '*/5 * * * *');
    expect(byTask().get('system_health_check')?.cron).toBe('*/5 * * * *');
    await expect(enterprise.maintenance.run('generate_analytics_report')).rejects.toMatchObject({
      code: 'E_MAINTENANCE_UNKNOWN_TASK',
    });
  });

  it('refuses a bad cron, table name or retention rule when given, naming it', () => {
    const enterprise = instance();
    const attempt = (options: object) => {
      try {
        enterprise.maintenance.enable(options);
      } catch (error) {
        return error as MaintenanceConfigError;
      }
      throw new Error('accepted');
    };
    const cron = attempt({ optimize_database: { schedule: 'at two' } });
    expect(cron).toBeInstanceOf(MaintenanceConfigError);
    expect(cron.context.field).toBe('optimize_database.schedule');
    const table = attempt({
      cleanup_old_content: {
        rules: [{ table: 'events; DROP TABLE users', timestampColumn: 'at', olderThan: '90d' }],
      },
    });
    expect(table.code).toBe('E_MAINTENANCE_CONFIG');
    expect(table.context.field).toBe('cleanup_old_content.rules[0].table');
    const age = attempt({
      cleanup_old_content: {
        rules: [{ table: 'events', timestampColumn: 'at', olderThan: 'soon' }],
      },
    });
    expect(age.context.field).toBe('cleanup_old_content.rules[0].olderThan');
    expect(() =>
      createEnterprise({ logger: silent, env: {}, maintenance: { keepResults: 0 } }),
    ).toThrow(MaintenanceConfigError);
  });
});

describe('maintenance.run()', () => {
  it('records a structured result of each run, newest first, bounded by keepResults', async () => {
    const enterprise = instance();
    let calls = 0;
    enterprise.maintenance.enable({
      keepResults: 3,
      cleanup_old_content: {
        rules: [
          async function purgeDrafts({ dryRun }) {
            calls++;
            return dryRun ? 7 : 5;
          },
        ],
      },
    });
    for (let i = 0; i < 5; i++) await enterprise.maintenance.run('cleanup_old_content');
    const dry = await enterprise.maintenance.run('cleanup_old_content', { dryRun: true });
    expect(calls).toBe(6);
    expect(dry).toMatchObject({ ok: true, dryRun: true, done: { deleted: 0 } });
    expect(dry.details?.rules).toEqual([
      { rule: 'purgeDrafts', deleted: 0, batches: 0, matching: 7 },
    ]);
    const results = enterprise.maintenance.results('cleanup_old_content');
    expect(results).toHaveLength(3);
    expect(results[0]).toBe(dry);
    expect(results[1]).toMatchObject({
      task: 'cleanup_old_content',
      trigger: 'manual',
      ok: true,
      examined: { rules: 1 },
      done: { deleted: 5 },
    });
    expect(results[1]!.durationMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(results[1]!.finishedAt)).toBeGreaterThanOrEqual(
      Date.parse(results[1]!.startedAt),
    );
  });

  it('stops a run past its timeout and records it as failed', async () => {
    const enterprise = instance();
    enterprise.maintenance.enable({
      cleanup_old_content: {
        timeout: '150ms',
        rules: [
          ({ signal }) =>
            new Promise<number>((resolve) => signal.addEventListener('abort', () => resolve(0))),
        ],
      },
    });
    const result = await enterprise.maintenance.run('cleanup_old_content');
    expect(result.ok).toBe(false);
    expect(result.error?.code).toBe('E_MAINTENANCE_TIMEOUT');
    expect(result.durationMs).toBeGreaterThanOrEqual(100);
  });

  it('joins a run of the same task already under way', async () => {
    const enterprise = instance();
    let calls = 0;
    enterprise.maintenance.enable({
      cleanup_old_content: {
        rules: [
          async () => {
            calls++;
            await new Promise((resolve) => setTimeout(resolve, 50));
            return 1;
          },
        ],
      },
    });
    const [a, b] = await Promise.all([
      enterprise.maintenance.run('cleanup_old_content'),
      enterprise.maintenance.run('cleanup_old_content'),
    ]);
    expect(a).toBe(b);
    expect(calls).toBe(1);
  });

  it('says what it could not do instead of failing when a module is absent', async () => {
    const enterprise = instance();
    enterprise.maintenance.enable();
    const report = await enterprise.maintenance.run('generate_analytics_report');
    expect(report.ok).toBe(true);
    expect(report.notes).toEqual([
      'no report configured: no report is named "daily" (define it, or set generate_analytics_report.report)',
    ]);
    const metrics = await enterprise.maintenance.run('cleanup_performance_metrics');
    expect(metrics.notes?.[0]).toMatch(/history is not in use/);
    const database = await enterprise.maintenance.run('optimize_database');
    expect(database.ok).toBe(false);
    expect(database.error?.code).toBe('E_MAINTENANCE_TASK');
  });

  it('generates the configured report through the runner it is given', async () => {
    const enterprise = instance();
    const asked: string[] = [];
    enterprise.maintenance.enable({
      generate_analytics_report: {
        report: 'weekly',
        runner: {
          run: async (name) => {
            asked.push(name);
            return { delivered: ['email'] };
          },
        },
      },
    });
    const result = await enterprise.maintenance.run('generate_analytics_report');
    expect(asked).toEqual(['weekly']);
    expect(result).toMatchObject({
      ok: true,
      done: { generated: 1 },
      details: { report: 'weekly', result: { delivered: ['email'] } },
    });
  });

  it('registers a task left out before when enable() is called again with it', async () => {
    const enterprise = instance();
    enterprise.maintenance.enable({ cleanup_old_content: false });
    enterprise.maintenance.enable({
      cleanup_old_content: { rules: [async () => 4], schedule: false },
    });
    await enterprise.start();
    const id = await enterprise.tasks.submit('cleanup_old_content' as never, undefined as never);
    const done = await enterprise.tasks.waitFor(id, { timeout: '10s' });
    expect(done.state).toBe('completed');
    expect(enterprise.maintenance.results('cleanup_old_content')[0]).toMatchObject({
      trigger: 'schedule',
      done: { deleted: 4 },
    });
  });

  it('runs a scheduled task through the task engine', async () => {
    const enterprise = instance({
      // Every second: the slot after start runs it once in this process.
      maintenance: { system_health_check: { schedule: '* * * * * *' } },
    });
    await enterprise.start();
    await until(() => enterprise.maintenance.results('system_health_check').length > 0, 5_000);
    const [result] = enterprise.maintenance.results('system_health_check');
    expect(result).toMatchObject({ trigger: 'schedule', ok: true });
    expect(result!.examined.components).toBeGreaterThan(0);
  });

  it('trims the metrics history beyond its retention', async () => {
    const enterprise = instance({ analytics: { history: {} } });
    enterprise.maintenance.enable();
    await enterprise.start({ workers: false });
    const result = await enterprise.maintenance.run('cleanup_performance_metrics');
    expect(result).toMatchObject({ ok: true, details: { store: 'memory' } });
    expect(result.examined.series).toBeTypeOf('number');
  });
});

describe('a failed run raises an alert', () => {
  it('fires MaintenanceTaskFailed for the task, and resolves it after a run that succeeds', async () => {
    const enterprise = instance({ alerts: { builtin: false } });
    let fail = true;
    enterprise.maintenance.enable({
      cleanup_old_content: {
        rules: [
          async () => {
            if (fail) throw new Error('the archive is read-only');
            return 0;
          },
        ],
      },
    });
    await enterprise.start({ workers: false });
    const failed = await enterprise.maintenance.run('cleanup_old_content');
    expect(failed.ok).toBe(false);
    expect(failed.error?.message).toBe('the archive is read-only');
    const firing = () =>
      enterprise.alerts
        .list({ state: 'firing' })
        .filter((a) => a.labels.alertname === 'MaintenanceTaskFailed');
    await until(async () => {
      await enterprise.alerts.evaluate();
      return firing().length === 1;
    }, 5_000);
    expect(firing()[0]!.labels.task).toBe('cleanup_old_content');
    fail = false;
    await enterprise.maintenance.run('cleanup_old_content');
    await until(async () => {
      await enterprise.alerts.evaluate();
      return firing().length === 0;
    }, 5_000);
  });
});

describe('system_health_check', () => {
  it('records each component, reports transitions, and raises then resolves an alert for one found down', async () => {
    const enterprise = instance({ alerts: { builtin: false } });
    let status: 'ok' | 'down' = 'ok';
    const name = `payments-${Math.random().toString(36).slice(2, 8)}`;
    const unregister = health.register(name, () => status, { critical: true });
    cleanup.push(async () => unregister());
    enterprise.maintenance.enable();
    await enterprise.start({ workers: false });
    const firing = () =>
      enterprise.alerts
        .list({ state: 'firing' })
        .filter((a) => a.labels.alertname === 'MaintenanceHealthCheckDown');

    const first = await enterprise.maintenance.run('system_health_check');
    expect(first.details?.components).toContainEqual({ name, status: 'ok' });
    expect(first.details?.transitions).toEqual([]);
    // The application's checks are cached for a second by their registry.
    const fresh = () => new Promise((resolve) => setTimeout(resolve, 1_100));
    status = 'down';
    await fresh();
    const second = await enterprise.maintenance.run('system_health_check');
    expect(second.details?.transitions).toContainEqual({ component: name, from: 'ok', to: 'down' });
    expect(second.done.transitions).toBeGreaterThanOrEqual(1);
    await until(async () => {
      await enterprise.alerts.evaluate();
      return firing().some((a) => a.labels.component === name);
    }, 5_000);
    status = 'ok';
    await fresh();
    const third = await enterprise.maintenance.run('system_health_check');
    expect(third.details?.transitions).toContainEqual({ component: name, from: 'down', to: 'ok' });
    await until(async () => {
      await enterprise.alerts.evaluate();
      return !firing().some((a) => a.labels.component === name);
    }, 5_000);
  });
});

describe('the monitoring router', () => {
  it('lists the tasks at GET /maintenance and runs one at POST /maintenance/:task/run, behind auth', async () => {
    const enterprise = instance();
    enterprise.maintenance.enable({
      cleanup_old_content: {
        rules: [
          async function sweep() {
            return 2;
          },
        ],
      },
    });
    const router = createMonitoringRouter({ enterprise, auth: TOKEN });
    cleanup.push(() => router.close());
    expect((await call(router, '/maintenance')).status).toBe(401);
    expect(
      (await call(router, '/maintenance/cleanup_old_content/run', { method: 'POST' })).status,
    ).toBe(401);
    const ran = await call(router, '/maintenance/cleanup_old_content/run', {
      method: 'POST',
      headers: AUTH,
    });
    expect(ran.status).toBe(200);
    const result = await json(ran);
    expect(result).toMatchObject({
      task: 'cleanup_old_content',
      trigger: 'api',
      ok: true,
      done: { deleted: 2 },
    });
    const dry = await json(
      await call(router, '/maintenance/cleanup_old_content/run?dryRun=true', {
        method: 'POST',
        headers: AUTH,
      }),
    );
    expect(dry.dryRun).toBe(true);
    const unknown = await call(router, '/maintenance/defrag/run', {
      method: 'POST',
      headers: AUTH,
    });
    expect(unknown.status).toBe(404);
    const listing = await json(await call(router, '/maintenance', { headers: AUTH }));
    expect(listing.enabled).toBe(true);
    const task = listing.tasks.find((t: { name: string }) => t.name === 'cleanup_old_content');
    expect(task.results).toHaveLength(2);
    expect(task.lastResult.dryRun).toBe(true);
    const doc = await json(await call(router, '/openapi.json', { headers: AUTH }));
    const schema =
      doc.paths['/maintenance'].get.responses['200'].content['application/json'].schema;
    expect(conforms(doc, listing, schema)).toEqual([]);
    const runSchema =
      doc.paths['/maintenance/{task}/run'].post.responses['200'].content['application/json'].schema;
    expect(conforms(doc, result, runSchema)).toEqual([]);
  });

  it('answers enabled: false and 501 on an instance without maintenance', async () => {
    const enterprise = instance();
    const router = createMonitoringRouter({ enterprise, auth: TOKEN });
    cleanup.push(() => router.close());
    expect(await json(await call(router, '/maintenance', { headers: AUTH }))).toEqual({
      enabled: false,
      tasks: [],
    });
    const run = await call(router, '/maintenance/optimize_database/run', {
      method: 'POST',
      headers: AUTH,
    });
    expect(run.status).toBe(501);
    expect(enterprise.peek('maintenance')).toBeUndefined();
  });
});

describe('generate_analytics_report with the reports module', () => {
  it('generates the instance report named in its options and writes it where it is delivered', async () => {
    const { mkdtemp, readdir, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'maintenance-report-'));
    const enterprise = createEnterprise({
      logLevel: 'silent',
      env: {},
      performance: { systemMetrics: false },
      reports: {
        definitions: {
          weekly: {
            sections: ['performance'],
            period: 'week',
            formats: ['json', 'html'],
            deliver: [{ directory: dir }],
          },
        },
      },
    } as Parameters<typeof createEnterprise>[0]);
    try {
      enterprise.maintenance.enable({ generate_analytics_report: { report: 'weekly' } });
      const result = await enterprise.maintenance.run('generate_analytics_report');
      expect(result).toMatchObject({ ok: true, done: { generated: 1 } });
      expect((await readdir(dir)).sort().map((f) => f.split('.').pop())).toEqual(['html', 'json']);
    } finally {
      await enterprise.shutdown();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import { MaintenanceBackupError } from '../../src/maintenance/errors.js';
import { redisTaskBackend } from '../../src/tasks/backends/redis.js';
import { silent } from '../monitoring/helpers.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';
import { adminClient, deleteKeys, testPrefix } from '../tasks/redis/helpers.js';

describe.runIf(requires(redis))('maintenance export and import on Redis', () => {
  let admin: Redis;
  const prefixes: string[] = [];
  const instances: Enterprise[] = [];
  beforeAll(() => {
    admin = adminClient();
  });
  afterEach(async () => {
    for (const enterprise of instances.splice(0)) await enterprise.shutdown();
    for (const prefix of prefixes.splice(0)) await deleteKeys(admin, prefix);
  });
  afterAll(async () => {
    await admin.quit();
  });

  // Only a started instance runs workers: the targets are never started.
  const instance = async () => {
    const prefix = testPrefix('backup');
    prefixes.push(prefix);
    const enterprise = createEnterprise({
      logger: silent,
      env: {},
      tasks: {
        backend: redisTaskBackend({ url: REDIS_URL, prefix }),
        queueName: 'main',
        workerCount: 2,
        maxRetries: 0,
      },
    });
    instances.push(enterprise);
    enterprise.tasks.register('work', async (payload: { n: number }) => {
      const error = new Error(`failed ${payload.n}`) as Error & { code: string };
      error.code = 'E_WORK';
      throw error;
    });
    enterprise.alerts.source({ name: 'orders.backlog', read: () => [] });
    return enterprise;
  };

  it('reproduces schedules, dead tasks, alert rules and silences in an empty prefix, once', async () => {
    const source = await instance();
    await source.start();
    const ids = [
      await source.tasks.submit('work', { n: 1 }, { id: 'dead-1' }),
      await source.tasks.submit('work', { n: 2 }, { id: 'dead-2', priority: 10 }),
    ];
    for (const id of ids) await source.tasks.waitFor(id, { timeout: '20s' }).catch(() => undefined);
    await source.tasks.scheduler.add({
      name: 'nightly',
      task: 'work',
      cron: '0 3 * * *',
      payload: { n: 3 },
    });
    await source.tasks.scheduler.pause('nightly');
    source.alerts.rule({
      name: 'OrdersBacklog',
      watch: 'orders.backlog',
      condition: { above: 100 },
      severity: 'critical',
    });
    await source.alerts.silence({
      matchers: [{ name: 'service', value: 'billing' }],
      duration: '2h',
      createdBy: 'alice',
      comment: 'migration',
    });

    const doc = JSON.parse(JSON.stringify(await source.maintenance.exportState()));
    expect(doc.version).toBe(1);
    expect(doc.deadTasks.map((t: { id: string }) => t.id).sort()).toEqual(['dead-1', 'dead-2']);
    expect(doc.schedules.map((s: { name: string }) => s.name)).toContain('nightly');

    const target = await instance();
    const first = await target.maintenance.importState(doc);
    expect(first.deadTasks).toEqual({ created: 2, updated: 0, unchanged: 0 });
    expect(first.schedules.created).toBe(doc.schedules.length);
    expect(first.alertRules.created).toBeGreaterThanOrEqual(1);
    expect(first.silences).toEqual({ created: 1, updated: 0, unchanged: 0 });

    const sourceBackend = await source.tasks.backend();
    const targetBackend = await target.tasks.backend();
    const dead = await targetBackend.listDead('main', 0, 10);
    const original = await sourceBackend.listDead('main', 0, 10);
    expect(dead.map((t) => t.id)).toEqual(original.map((t) => t.id));
    for (const [i, t] of dead.entries()) {
      const o = original[i]!;
      expect(t).toMatchObject({
        id: o.id,
        name: 'work',
        payload: o.payload,
        priority: o.priority,
        attempts: o.attempts,
        finishedAt: o.finishedAt,
        error: { name: 'Error', message: o.error!.message, code: 'E_WORK' },
        state: 'dead',
      });
    }
    const schedule = (await targetBackend.schedules()).find((s) => s.name === 'nightly');
    expect(schedule).toMatchObject({ state: 'paused', taskName: 'work', cron: '0 3 * * *' });
    expect(target.alerts.rules().map((r) => r.name)).toContain('OrdersBacklog');
    const silences = await target.alerts.silences();
    expect(silences).toHaveLength(1);
    expect(silences[0]).toMatchObject({ createdBy: 'alice', comment: 'migration' });

    const again = await target.maintenance.importState(JSON.stringify(doc));
    for (const part of ['schedules', 'deadTasks', 'alertRules', 'silences'] as const) {
      expect(again[part].created + again[part].updated).toBe(0);
    }
    expect(await targetBackend.listDead('main', 0, 10)).toHaveLength(2);
    expect(await target.alerts.silences()).toHaveLength(1);
    expect((await targetBackend.counts('main')).dead).toBe(2);
  }, 30_000);

  it('refuses a bad document with an error naming the field, and writes nothing', async () => {
    const target = await instance();
    const good = await target.maintenance.exportState();
    const cases: [unknown, string][] = [
      ['not json', 'document'],
      [{ ...good, version: 2 }, 'version'],
      [{ ...good, schedules: {} }, 'schedules'],
      [
        {
          ...good,
          schedules: [
            { name: 'a', taskName: 'work', kind: 'hourly', options: '{}', origin: 'admin' },
          ],
        },
        'schedules[0].kind',
      ],
      [{ ...good, deadTasks: [{ id: 'x', name: 'work', queue: 'main' }] }, 'deadTasks[0].payload'],
      [{ ...good, silences: [{ matchers: [], createdBy: 'a' }] }, 'silences[0].matchers'],
    ];
    for (const [doc, field] of cases) {
      const error = await target.maintenance.importState(doc).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MaintenanceBackupError);
      expect(error).toMatchObject({ code: 'E_MAINTENANCE_BACKUP', context: { field } });
    }
    expect(await (await target.tasks.backend()).schedules()).toEqual(good.schedules);
  });

  it('counts without writing on a dry run', async () => {
    const target = await instance();
    const result = await target.maintenance.importState(
      {
        version: 1,
        exportedAt: new Date().toISOString(),
        schedules: [
          {
            name: 'hourly',
            taskName: 'work',
            kind: 'every',
            everyMs: 3_600_000,
            options: '{}',
            origin: 'admin',
            state: 'active',
            updatedAt: Date.now(),
          },
        ],
      },
      { dryRun: true },
    );
    expect(result).toMatchObject({ dryRun: true, schedules: { created: 1 } });
    expect(await (await target.tasks.backend()).schedules()).toEqual([]);
  });
});

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisAlertStore } from '../../src/alerts/index.js';
import { runCli } from '../../src/cli/run.js';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import { redisTaskBackend } from '../../src/tasks/index.js';
import { REDIS_URL, redis, requires } from '../support/requirements.js';
import { adminClient, deleteKeys, testPrefix } from '../tasks/redis/helpers.js';

const exec = promisify(execFile);

/** Runs one command line in this process; its exit code and what it printed. */
async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    argv,
    { REDIS_URL },
    { out: (l) => out.push(l), err: (l) => err.push(l) },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('command line: usage', () => {
  it('answers 2 with the usage for an unknown command, a bad option or no Redis', async () => {
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('queues', '--nope')).code).toBe(2);
    expect((await cli('dead', 'list', '--limit', 'lots')).err).toMatch(/--limit=lots is invalid/);
    const noRedis = await runCli(['queues'], {}, { out: () => undefined, err: () => undefined });
    expect(noRedis).toBe(2);
    const help = await cli('--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: revcopy-enterprise <command>');
  });
});

describe.runIf(requires(redis))('command line against a deployment on Redis', () => {
  const prefix = testPrefix('cli');
  let app: Enterprise;
  const ran: string[] = [];

  beforeAll(async () => {
    // The deployment: a worker process with its handlers and a schedule registered in code.
    app = createEnterprise({
      logLevel: 'silent',
      env: {},
      performance: { systemMetrics: false },
      tasks: {
        backend: redisTaskBackend({ url: REDIS_URL, prefix }),
        maxRetries: 0,
        scheduleSync: '100ms',
        shutdownTimeout: '100ms',
      },
    });
    app.tasks.register('ok', () => 'done');
    app.tasks.register('boom', () => {
      throw new Error('card declined');
    });
    app.tasks.register('cleanup_completed_tasks', () => void ran.push('cleanup'));
    app.tasks.scheduler.schedulePeriodic('0 2 * * *', 'nightly', 'ok');
    await app.start();
    await app.tasks.waitFor(await app.tasks.submit('ok', undefined), { timeout: '10s' });
    const dead = await app.tasks.submit('boom', undefined);
    await app.tasks.waitFor(dead, { timeout: '10s' }).catch(() => undefined);
  });

  afterAll(async () => {
    await app?.shutdown();
    const client = adminClient();
    await deleteKeys(client, prefix);
    await client.quit();
  });

  it('health and queues read the deployment', async () => {
    const health = await cli('health', '--prefix', prefix, '--json');
    expect(health.code).toBe(0);
    expect(JSON.parse(health.out)).toMatchObject({ status: 'ok', backend: 'redis' });
    const queues = await cli('queues', '--prefix', prefix, '--json');
    const [queue] = JSON.parse(queues.out);
    expect(queue).toMatchObject({ completed: 1, dead: 1 });
    expect(queue.workers).toBeGreaterThanOrEqual(1);
    expect((await cli('queues', '--prefix', prefix)).out).toMatch(/^queue\s+paused\s+waiting/);
  });

  it('exports schedules and dead tasks to a file, and imports them into an empty prefix once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-backup-'));
    const target = testPrefix('cli-import');
    const client = adminClient();
    try {
      const file = join(dir, 'backup.json');
      const exported = await cli('export', '--file', file, '--prefix', prefix);
      expect(exported).toMatchObject({ code: 0 });
      expect(exported.out).toMatch(/wrote 1 schedule\(s\), 1 dead task\(s\)/);
      const doc = JSON.parse(await readFile(file, 'utf8'));
      expect(doc).toMatchObject({ version: 1, deadTasks: [{ name: 'boom' }] });

      const dry = await cli('import', file, '--dry-run', '--prefix', target, '--json');
      expect(JSON.parse(dry.out)).toMatchObject({ dryRun: true, deadTasks: { created: 1 } });
      expect(JSON.parse((await cli('dead', 'list', '--prefix', target, '--json')).out)).toEqual([]);

      const first = await cli('import', file, '--prefix', target, '--json');
      expect(first.code).toBe(0);
      expect(JSON.parse(first.out)).toMatchObject({
        schedules: { created: 1 },
        deadTasks: { created: 1 },
      });
      const [original] = JSON.parse((await cli('dead', 'list', '--prefix', prefix, '--json')).out);
      const [copy] = JSON.parse((await cli('dead', 'list', '--prefix', target, '--json')).out);
      expect(copy).toEqual(original);
      expect((await cli('schedules', 'list', '--prefix', target)).out).toMatch(
        /nightly\s+ok\s+0 2 \* \* \*\s+active\s+code/,
      );
      const second = await cli('import', file, '--prefix', target);
      expect(second.out).toContain('schedules: 0 created, 0 updated, 1 unchanged');
      expect(second.out).toContain('deadTasks: 0 created, 0 updated, 1 unchanged');

      const bad = join(dir, 'bad.json');
      await writeFile(
        bad,
        JSON.stringify({ ...doc, deadTasks: [{ ...doc.deadTasks[0], attempts: 'x' }] }),
      );
      const refused = await cli('import', bad, '--prefix', target);
      expect(refused.code).toBe(1);
      expect(refused.err).toContain('deadTasks[0].attempts="x" is invalid');
      expect((await cli('import', join(dir, 'missing.json'), '--prefix', target)).code).toBe(1);
    } finally {
      await deleteKeys(client, target);
      await client.quit();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exports and imports the silences of the alert store; alert rules in a document are skipped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cli-silences-'));
    const [from, to] = [testPrefix('cli-alerts'), testPrefix('cli-alerts-copy')];
    const tasks = testPrefix('cli-tasks-copy');
    const source = new RedisAlertStore({ url: REDIS_URL, prefix: from });
    const target = new RedisAlertStore({ url: REDIS_URL, prefix: to });
    const client = adminClient();
    try {
      const hour = 3_600_000;
      const silence = {
        id: 'maintenance-window',
        matchers: [{ name: 'service', value: 'billing', op: '=' as const }],
        startsAt: new Date(Date.now() - hour).toISOString(),
        endsAt: new Date(Date.now() + hour).toISOString(),
        createdBy: 'alice',
        comment: 'billing migration',
      };
      await source.putSilence(silence);
      // An expired silence is history, not state: it is not exported.
      await source.putSilence({
        ...silence,
        id: 'old',
        startsAt: new Date(Date.now() - 3 * hour).toISOString(),
        endsAt: new Date(Date.now() - 2 * hour).toISOString(),
      });
      const file = join(dir, 'backup.json');
      const exported = await cli(
        'export',
        '--file',
        file,
        '--prefix',
        prefix,
        '--alerts-prefix',
        from,
      );
      expect(exported.out).toMatch(/1 silence\(s\)/);
      const doc = JSON.parse(await readFile(file, 'utf8'));
      expect(doc.silences).toEqual([silence]);

      await writeFile(
        file,
        JSON.stringify({ ...doc, alertRules: [{ name: 'r', watch: 'x', condition: {} }] }),
      );
      const first = await cli('import', file, '--prefix', tasks, '--alerts-prefix', to);
      expect(first.code).toBe(0);
      expect(first.out).toContain('silences: 1 created, 0 updated, 0 unchanged');
      expect(first.out).toContain('alertRules: skipped');
      const [copy] = await target.silences();
      expect(copy).toMatchObject({ ...silence, id: expect.any(String) });
      const second = await cli('import', file, '--prefix', tasks, '--alerts-prefix', to);
      expect(second.out).toContain('silences: 0 created, 0 updated, 1 unchanged');
      expect(await target.silences()).toHaveLength(1);
    } finally {
      await source.close();
      await target.close();
      for (const p of [from, to]) await deleteKeys(client, `{${p}}`);
      await deleteKeys(client, tasks);
      await client.quit();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lists, retries and purges dead tasks', async () => {
    const list = await cli('dead', 'list', '--prefix', prefix, '--json');
    const [task] = JSON.parse(list.out);
    expect(task).toMatchObject({ name: 'boom', error: { message: 'card declined' } });
    expect((await cli('dead', 'retry', 'no-such-id', '--prefix', prefix)).code).toBe(1);
    const retried = await cli('dead', 'retry', task.id, '--prefix', prefix);
    expect(retried).toMatchObject({ code: 0, out: `retried ${task.id}` });
    await app.tasks.waitFor(task.id, { timeout: '10s' }).catch(() => undefined);
    const purged = await cli('dead', 'purge', '--prefix', prefix, '--json');
    expect(JSON.parse(purged.out)).toEqual({ removed: 1 });
  });

  it('pauses a schedule for every process, and resumes it', async () => {
    expect((await cli('schedules', 'list', '--prefix', prefix)).out).toMatch(
      /nightly\s+ok\s+0 2 \* \* \*\s+active/,
    );
    expect((await cli('schedules', 'pause', 'nightly', '--prefix', prefix)).code).toBe(0);
    await app.tasks.scheduler.sync();
    expect(app.tasks.scheduler.list()[0]).toMatchObject({ name: 'nightly', paused: true });
    expect((await cli('schedules', 'resume', 'nightly', '--prefix', prefix)).code).toBe(0);
    await app.tasks.scheduler.sync();
    expect(app.tasks.scheduler.list()[0]).toMatchObject({ paused: false });
    expect((await cli('schedules', 'pause', 'nope', '--prefix', prefix)).code).toBe(1);
  });

  it('submits a maintenance task that the deployment runs', async () => {
    const run = await cli(
      'maintenance',
      'run',
      'cleanup_completed_tasks',
      '--prefix',
      prefix,
      '--json',
    );
    expect(run.code).toBe(0);
    await app.tasks.waitFor(JSON.parse(run.out).taskId, { timeout: '10s' });
    expect(ran).toEqual(['cleanup']);
    expect((await cli('maintenance', 'run', 'rm_rf', '--prefix', prefix)).code).toBe(2);
  });

  it('runs as a program (the bin), with exit codes', async () => {
    const { stdout } = await exec(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'queues', '--prefix', prefix],
      { env: { ...process.env, REDIS_URL }, timeout: 30_000 },
    );
    expect(stdout).toMatch(/^queue\s+paused/);
    await expect(
      exec(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'nope'], {
        env: { ...process.env, REDIS_URL },
        timeout: 30_000,
      }),
    ).rejects.toMatchObject({ code: 2 });
  });
});

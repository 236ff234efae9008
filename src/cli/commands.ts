// What the command line does, against an instance whose task backend is the deployment's: each
// command answers data (printed as a table, or as JSON with --json), or throws a CliError.
import { readFile, writeFile } from 'node:fs/promises';
import type { Enterprise } from '../enterprise.js';
import { exportState, importState } from '../maintenance/backup.js';
import type { BackupAlerts, BackupServices } from '../maintenance/backup-types.js';
import { CliError } from './cli-error.js';

/** The seed's maintenance tasks: `maintenance run <name>` submits one for the workers to run. */
export const MAINTENANCE_TASKS = [
  'cleanup_completed_tasks',
  'cleanup_performance_metrics',
  'optimize_database',
  'cache_warming',
  'cleanup_old_content',
  'system_health_check',
  'generate_analytics_report',
] as const;

/** A command's answer: rows for a table (or a line), and the exit code. */
export interface CommandResult {
  data: unknown;
  /** Lines printed instead of the data when not --json. */
  text: string[];
  exitCode: number;
}

/** The parsed command line a command reads. */
export interface CommandInput {
  args: string[];
  /** `export --file`: where the document goes (default: printed). */
  file?: string;
  dryRun?: boolean;
  queue?: string;
  limit?: number;
  /** The deployment's silences (the alert store on the same Redis). */
  silences?: BackupAlerts;
}

type Command = (enterprise: Enterprise, input: CommandInput) => Promise<CommandResult>;

const ok = (data: unknown, text: string[]): CommandResult => ({ data, text, exitCode: 0 });

function need(input: CommandInput, index: number, what: string): string {
  const value = input.args[index];
  if (value === undefined || value === '') throw new CliError(`missing ${what}`, 2);
  return value;
}

function table(rows: Record<string, unknown>[], columns: string[]): string[] {
  if (rows.length === 0) return ['(none)'];
  const cells = rows.map((row) => columns.map((c) => (row[c] === undefined ? '' : String(row[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns), ...cells.map(line)];
}

const health: Command = async (enterprise) => {
  const stats = await enterprise.tasks.stats();
  const workers = stats.workers.length;
  const unhealthy = stats.workers.filter((w) => !w.healthy).length;
  const stalled = stats.queues.filter((q) => q.waiting > 0 && q.workers.length === 0);
  const text = [
    `task backend: ${stats.backend}, reachable`,
    `queues: ${stats.queues.length}, workers: ${workers} (${unhealthy} unhealthy)`,
    ...stalled.map((q) => `warning: queue ${q.name} has ${q.waiting} waiting and no worker`),
  ];
  const status = unhealthy > 0 || stalled.length > 0 ? 'degraded' : 'ok';
  return {
    data: { status, backend: stats.backend, queues: stats.queues.length, workers, unhealthy },
    text: [`status: ${status}`, ...text],
    exitCode: status === 'ok' ? 0 : 1,
  };
};

const queues: Command = async (enterprise) => {
  const stats = await enterprise.tasks.stats();
  const rows = stats.queues.map((q) => ({
    queue: q.name,
    paused: q.paused ? 'yes' : '',
    waiting: q.waiting,
    delayed: q.delayed,
    active: q.active,
    completed: q.completed,
    dead: q.dead,
    workers: q.workers.length,
    oldestWaitingS: Math.round(q.oldestWaitingMs / 1000),
  }));
  return ok(
    rows,
    table(rows, [
      'queue',
      'paused',
      'waiting',
      'delayed',
      'active',
      'completed',
      'dead',
      'workers',
    ]),
  );
};

const dead: Command = async (enterprise, input) => {
  const dlq = enterprise.tasks.deadLetters;
  const action = input.args[0] ?? 'list';
  const scope = input.queue === undefined ? {} : { queue: input.queue };
  if (action === 'list') {
    const tasks = await dlq.list({ ...scope, limit: input.limit ?? 20 });
    const rows = tasks.map((t) => ({
      id: t.id,
      name: t.name,
      queue: t.queue,
      attempts: t.attempts,
      error: `${t.error?.name ?? ''}: ${t.error?.message ?? ''}`.slice(0, 80),
      finishedAt: t.finishedAt?.toISOString(),
    }));
    return ok(tasks, table(rows, ['id', 'name', 'queue', 'attempts', 'finishedAt', 'error']));
  }
  if (action === 'retry') {
    const id = need(input, 1, 'the dead task id');
    if (!(await dlq.retry(id, scope))) throw new CliError(`no dead task has the id ${id}`, 1);
    return ok({ retried: id }, [`retried ${id}`]);
  }
  if (action === 'purge') {
    const removed = await dlq.purge(scope);
    return ok({ removed }, [`removed ${removed} dead task(s)`]);
  }
  throw new CliError(`unknown action "dead ${action}": use list, retry or purge`, 2);
};

const schedules: Command = async (enterprise, input) => {
  const scheduler = enterprise.tasks.scheduler;
  const action = input.args[0] ?? 'list';
  if (action === 'list') {
    await scheduler.sync();
    const list = scheduler.list({ includeRemoved: true });
    const rows = list.map((s) => ({
      name: s.name,
      task: s.taskName,
      when: s.cron ?? `every ${s.everyMs} ms`,
      state: s.removed ? 'removed' : s.paused ? 'paused' : 'active',
      origin: s.origin,
      next: s.nextRunAt.toISOString(),
    }));
    return ok(list, table(rows, ['name', 'task', 'when', 'state', 'origin', 'next']));
  }
  const name = need(input, 1, 'the schedule name');
  if (action === 'run') {
    await scheduler.sync();
    const id = await scheduler.runNow(name);
    return ok({ schedule: name, taskId: id }, [`submitted ${id}`]);
  }
  if (action === 'pause' || action === 'resume' || action === 'remove') {
    if (!(await scheduler[action](name))) throw new CliError(`no schedule is named ${name}`, 1);
    const done = { pause: 'paused', resume: 'resumed', remove: 'removed' }[action];
    return ok({ schedule: name, [done]: true }, [`${done} ${name} in every process`]);
  }
  throw new CliError(
    `unknown action "schedules ${action}": use list, pause, resume, remove or run`,
    2,
  );
};

const maintenance: Command = async (enterprise, input) => {
  const action = need(input, 0, 'the action (run)');
  if (action !== 'run') throw new CliError(`unknown action "maintenance ${action}": use run`, 2);
  const task = need(input, 1, 'the maintenance task name');
  if (!(MAINTENANCE_TASKS as readonly string[]).includes(task)) {
    throw new CliError(
      `unknown maintenance task ${task}: one of ${MAINTENANCE_TASKS.join(', ')}`,
      2,
    );
  }
  // Run by the deployment's workers, which registered the task: this process only submits it.
  const id = await enterprise.tasks.submit(
    task as never,
    undefined as never,
    {
      allowUnknown: true,
      ...(input.queue === undefined ? {} : { queue: input.queue }),
    } as never,
  );
  return ok({ task, taskId: id }, [`submitted ${task} as ${id}; the deployment's workers run it`]);
};

// The command line's instance has the deployment's task store and its alert store, and no alerts
// engine: the document carries schedules, dead tasks and silences. Alert rules are defined in each
// service's code; `maintenance.exportState()` in a service exports them.
const backupServices = (enterprise: Enterprise, input: CommandInput): BackupServices => ({
  taskStore: () => enterprise.tasks.backend(),
  ...(input.silences === undefined ? {} : { alerts: () => input.silences }),
});

const exportCommand: Command = async (enterprise, input) => {
  const doc = await exportState(backupServices(enterprise, input));
  const text = JSON.stringify(doc, null, 2);
  const counts = {
    schedules: doc.schedules.length,
    deadTasks: doc.deadTasks.length,
    silences: doc.silences.length,
  };
  const summary = `${counts.schedules} schedule(s), ${counts.deadTasks} dead task(s), ${counts.silences} silence(s)`;
  if (input.file === undefined) return { data: doc, text: [text], exitCode: 0 };
  await writeFile(input.file, `${text}\n`);
  return ok({ file: input.file, ...counts }, [`wrote ${summary} to ${input.file}`]);
};

const importCommand: Command = async (enterprise, input) => {
  const file = need(input, 0, 'the file to import');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, 1);
  }
  let doc: unknown = text;
  const skipped: string[] = [];
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    if (Array.isArray(parsed.alertRules) && parsed.alertRules.length > 0)
      skipped.push('alertRules');
    doc = { ...parsed, alertRules: [] };
  } catch {
    // Not JSON: importState names the problem.
  }
  const result = await importState(backupServices(enterprise, input), doc, {
    dryRun: input.dryRun === true,
  });
  const line = (part: 'schedules' | 'deadTasks' | 'silences') =>
    `${part}: ${result[part].created} created, ${result[part].updated} updated, ${result[part].unchanged} unchanged`;
  return ok({ ...result, skipped }, [
    ...(result.dryRun ? ['dry run: nothing written'] : []),
    line('schedules'),
    line('deadTasks'),
    line('silences'),
    ...skipped.map(
      (part) =>
        `${part}: skipped (rules live in the services' code; import them with maintenance.importState())`,
    ),
  ]);
};

/** @internal Every command by name. */
export const COMMANDS: Record<string, Command> = {
  health,
  queues,
  dead,
  schedules,
  maintenance,
  export: exportCommand,
  import: importCommand,
};

import type { StoredSchedule, TaskRecord } from '../tasks/types.js';
import { checkBackup } from './backup-check.js';
import {
  BACKUP_VERSION,
  type BackupAlertRule,
  type BackupDocument,
  type BackupServices,
  type BackupSilence,
  type ExportStateOptions,
  type ImportCounts,
  type ImportStateOptions,
  type ImportStateResult,
} from './backup-types.js';
import { MaintenanceBackupError } from './errors.js';

// Export and import of what operators build up at run time: schedules, dead tasks, alert rules
// and silences. An import is checked whole first, and writes only what is missing or differs,
// so importing the same document twice changes nothing the second time.

const PAGE = 500;

/** @internal `maintenance.exportState()`. */
export async function exportState(
  services: BackupServices,
  options: ExportStateOptions = {},
  now: number = Date.now(),
): Promise<BackupDocument> {
  const store = await services.taskStore?.();
  const schedules = store === undefined ? [] : await store.schedules();
  schedules.sort((a, b) => a.name.localeCompare(b.name));
  const deadTasks: TaskRecord[] = [];
  if (store !== undefined && options.deadTasks !== false) {
    const max = options.maxDeadPerQueue ?? 10_000;
    for (const queue of await store.queues()) {
      for (let offset = 0; offset < max; offset += PAGE) {
        const page = await store.listDead(queue, offset, Math.min(PAGE, max - offset));
        deadTasks.push(...page);
        if (page.length < PAGE) break;
      }
    }
  }
  const alerts = services.alerts?.();
  const alertRules: BackupAlertRule[] = [];
  const silences: BackupSilence[] = [];
  if (alerts !== undefined) {
    for (const { definition } of alerts.rules()) {
      // A rule watching a function has nothing JSON can carry.
      if (typeof definition.watch !== 'string') continue;
      alertRules.push(JSON.parse(JSON.stringify(definition)) as BackupAlertRule);
    }
    for (const { status, ...silence } of await alerts.silences()) {
      if (status !== 'expired') silences.push(silence);
    }
  }
  return {
    version: BACKUP_VERSION,
    exportedAt: new Date(now).toISOString(),
    schedules,
    deadTasks,
    alertRules,
    silences,
  };
}

const counts = (): ImportCounts => ({ created: 0, updated: 0, unchanged: 0 });

/** @internal `maintenance.importState()`. */
export async function importState(
  services: BackupServices,
  input: unknown,
  options: ImportStateOptions = {},
): Promise<ImportStateResult> {
  const doc = checkBackup(input);
  const dryRun = options.dryRun === true;
  const result: ImportStateResult = {
    dryRun,
    schedules: counts(),
    deadTasks: counts(),
    alertRules: counts(),
    silences: counts(),
  };
  const store =
    doc.schedules.length + doc.deadTasks.length > 0 ? await services.taskStore?.() : undefined;
  if (doc.schedules.length + doc.deadTasks.length > 0 && store === undefined) {
    missing('schedules', 'a task backend (enable the tasks module)');
  }
  if (doc.deadTasks.length > 0 && store?.restoreDead === undefined) {
    missing('deadTasks', 'a task backend that implements restoreDead');
  }
  const alerts = services.alerts?.();
  if (doc.alertRules.length + doc.silences.length > 0 && alerts === undefined) {
    missing(doc.alertRules.length > 0 ? 'alertRules' : 'silences', 'the alerts module');
  }

  // Rules and silences first: the alerts engine checks them as it takes them, so a definition it
  // refuses stops the import before the task store is written.
  if (alerts !== undefined) {
    const names = new Set(alerts.rules().map((r) => r.name));
    for (const rule of doc.alertRules) {
      if (names.has(rule.name)) {
        result.alertRules.unchanged += 1;
        continue;
      }
      result.alertRules.created += 1;
      if (!dryRun) alerts.addRule(rule);
      names.add(rule.name);
    }
    const present = new Set((await alerts.silences()).map(silenceKey));
    const now = Date.now();
    for (const silence of doc.silences) {
      if (present.has(silenceKey(silence)) || Date.parse(silence.endsAt) <= now) {
        result.silences.unchanged += 1;
        continue;
      }
      result.silences.created += 1;
      const { id: _id, ...input } = silence;
      if (!dryRun) await alerts.addSilence(input);
      present.add(silenceKey(silence));
    }
  }
  if (store !== undefined) {
    const stored = new Map((await store.schedules()).map((s) => [s.name, s]));
    for (const schedule of doc.schedules) {
      const current = stored.get(schedule.name);
      if (current !== undefined && sameSchedule(current, schedule)) {
        result.schedules.unchanged += 1;
      } else if (current !== undefined && options.replaceSchedules === false) {
        result.schedules.unchanged += 1;
      } else {
        result.schedules[current === undefined ? 'created' : 'updated'] += 1;
        if (!dryRun) await store.saveSchedule({ ...schedule });
      }
    }
    const byQueue = new Map<string, TaskRecord[]>();
    for (const task of doc.deadTasks) {
      const queue = byQueue.get(task.queue) ?? [];
      queue.push(task);
      byQueue.set(task.queue, queue);
    }
    for (const [queue, tasks] of byQueue) {
      if (dryRun) {
        for (const task of tasks) {
          const exists = (await store.get(queue, task.id)) !== undefined;
          result.deadTasks[exists ? 'unchanged' : 'created'] += 1;
        }
        continue;
      }
      for (const outcome of await store.restoreDead!(queue, tasks)) {
        result.deadTasks[outcome.created ? 'created' : 'unchanged'] += 1;
      }
    }
  }

  return result;
}

function missing(field: string, what: string): never {
  throw new MaintenanceBackupError(`${field}: restoring them needs ${what}`, {
    field,
    value: undefined,
    expected: what,
  });
}

// Processes compare whole records (the scheduler does too); `updatedAt` only says when.
function sameSchedule(a: StoredSchedule, b: StoredSchedule): boolean {
  const { updatedAt: _a, ...left } = a;
  const { updatedAt: _b, ...right } = b;
  return JSON.stringify(sorted(left)) === JSON.stringify(sorted(right));
}

function sorted(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(o).sort()) if (o[key] !== undefined) out[key] = o[key];
  return out;
}

// A silence's id is new in each store it is created in: two silences are the same one when
// everything else is.
function silenceKey(s: BackupSilence): string {
  const matchers = s.matchers.map((m) => [m.name, m.op ?? '=', m.value]);
  return JSON.stringify([
    matchers,
    new Date(s.startsAt).toISOString(),
    new Date(s.endsAt).toISOString(),
    s.createdBy,
    s.comment ?? '',
  ]);
}

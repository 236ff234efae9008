import type { StoredSchedule, TaskBackend, TaskRecord } from '../tasks/types.js';

/** The version of the backup document this release writes and reads. */
export const BACKUP_VERSION = 1;

/**
 * An alert rule as a backup keeps it: its definition, watched source named by a string (a rule
 * watching a function cannot be exported and is left out).
 */
export interface BackupAlertRule {
  name: string;
  watch: string;
  condition: Readonly<Record<string, unknown>>;
  [field: string]: unknown;
}

/** A silence as a backup keeps it (the alerts module's `Silence`). */
export interface BackupSilence {
  id: string;
  matchers: readonly { name: string; value: string; op?: '=' | '!=' | '=~' | '!~' }[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/**
 * What `exportState()` returns and `importState()` takes: plain JSON, versioned.
 *
 * @example
 * ```ts
 * const doc: BackupDocument = await enterprise.maintenance.exportState();
 * await writeFile('backup.json', JSON.stringify(doc));
 * ```
 */
export interface BackupDocument {
  version: typeof BACKUP_VERSION;
  /** ISO 8601 time of the export. */
  exportedAt: string;
  /** Every stored schedule record (code and run-time ones, with the operator's state). */
  schedules: StoredSchedule[];
  /** The dead tasks of every queue, as the backend lists them. */
  deadTasks: TaskRecord[];
  /** Rules defined on the alerts engine that watch a named source. */
  alertRules: BackupAlertRule[];
  /** Silences not yet expired. */
  silences: BackupSilence[];
}

/**
 * What `exportState()` and `importState()` take from the task backend; the tasks module's
 * `TaskBackend` provides it.
 */
export type BackupTaskStore = Pick<
  TaskBackend,
  'schedules' | 'saveSchedule' | 'queues' | 'listDead' | 'get'
> &
  Partial<Pick<TaskBackend, 'restoreDead'>>;

/** What `exportState()` and `importState()` take from the alerts engine (wired by the composition). */
export interface BackupAlerts {
  /** The rules' names and definitions (the definition's `watch` may be a function). */
  rules(): { name: string; definition: Readonly<Record<string, unknown>> }[];
  /** Defines a rule; throws the alerts module's typed error when the definition is invalid. */
  addRule(definition: BackupAlertRule): void;
  silences(): Promise<(BackupSilence & { status: string })[]>;
  /** Creates a silence (a new id); throws the alerts module's typed error when invalid. */
  addSilence(silence: Omit<BackupSilence, 'id'>): Promise<unknown>;
}

/** The services a backup works with, read at each call. */
export interface BackupServices {
  taskStore?: () => Promise<BackupTaskStore | undefined>;
  alerts?: () => BackupAlerts | undefined;
}

/**
 * What `exportState()` takes.
 *
 * @example
 * ```ts
 * await enterprise.maintenance.exportState({ deadTasks: false });
 * ```
 */
export interface ExportStateOptions {
  /** Include the dead tasks (default `true`). */
  deadTasks?: boolean;
  /** At most this many dead tasks per queue (default 10 000). */
  maxDeadPerQueue?: number;
}

/**
 * What `importState()` takes.
 *
 * @example
 * ```ts
 * await enterprise.maintenance.importState(doc, { dryRun: true });
 * ```
 */
export interface ImportStateOptions {
  /** Validate and count, write nothing (default `false`). */
  dryRun?: boolean;
  /**
   * A stored schedule whose record differs from the document's: `true` (default) replaces it
   * with the document's, `false` keeps it.
   */
  replaceSchedules?: boolean;
}

/** What one part of an import did. */
export interface ImportCounts {
  /** Written (new). */
  created: number;
  /** Replaced (schedules whose record differed). */
  updated: number;
  /** Present already (same id or name): left alone. */
  unchanged: number;
}

/**
 * What `importState()` did; importing the same document again gives only `unchanged`.
 *
 * @example
 * ```ts
 * const r = await enterprise.maintenance.importState(doc);
 * console.log(r.deadTasks.created, r.schedules.unchanged);
 * ```
 */
export interface ImportStateResult {
  dryRun: boolean;
  schedules: ImportCounts;
  deadTasks: ImportCounts;
  alertRules: ImportCounts;
  silences: ImportCounts;
}

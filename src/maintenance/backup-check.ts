import { describeValue } from '../core/errors.js';
import { BACKUP_VERSION, type BackupDocument } from './backup-types.js';
import { MaintenanceBackupError } from './errors.js';

// Checks a backup document whole before anything is written, so that a bad document changes
// nothing; every problem names the field's path.

type Obj = Record<string, unknown>;

function fail(field: string, value: unknown, expected: string): never {
  throw new MaintenanceBackupError(`${field}=${describeValue(value)} is invalid: ${expected}`, {
    field,
    value,
    expected,
  });
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function str(o: Obj, path: string, key: string, optional = false): void {
  const v = o[key];
  if (v === undefined && optional) return;
  if (typeof v !== 'string' || (!optional && v === ''))
    fail(`${path}.${key}`, v, 'expected a string');
}

function num(o: Obj, path: string, key: string, optional = false): void {
  const v = o[key];
  if (v === undefined && optional) return;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${path}.${key}`, v, 'expected a number');
}

function list(doc: Obj, key: string): Obj[] {
  const v = doc[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(key, v, 'expected an array');
  v.forEach((item, i) => {
    if (!isObj(item)) fail(`${key}[${i}]`, item, 'expected an object');
  });
  return v as Obj[];
}

function checkSchedule(s: Obj, path: string): void {
  str(s, path, 'name');
  str(s, path, 'taskName');
  if (s.kind !== 'cron' && s.kind !== 'every')
    fail(`${path}.kind`, s.kind, "expected 'cron' or 'every'");
  if (s.kind === 'cron') str(s, path, 'cron');
  if (s.kind === 'every') num(s, path, 'everyMs');
  str(s, path, 'timezone', true);
  str(s, path, 'payload', true);
  if (typeof s.options !== 'string') fail(`${path}.options`, s.options, 'expected JSON text');
  if (s.origin !== 'code' && s.origin !== 'admin')
    fail(`${path}.origin`, s.origin, "expected 'code' or 'admin'");
  if (s.state !== 'active' && s.state !== 'paused' && s.state !== 'removed')
    fail(`${path}.state`, s.state, "expected 'active', 'paused' or 'removed'");
  num(s, path, 'updatedAt');
}

function checkDead(t: Obj, path: string): void {
  for (const key of ['id', 'name', 'queue']) str(t, path, key);
  if (typeof t.payload !== 'string') fail(`${path}.payload`, t.payload, 'expected JSON text');
  for (const key of ['priority', 'runAt', 'maxRetries', 'timeoutMs', 'createdAt', 'attempts'])
    num(t, path, key);
  num(t, path, 'startedAt', true);
  num(t, path, 'finishedAt', true);
  if (t.state !== 'dead') fail(`${path}.state`, t.state, "expected 'dead'");
  if (!isObj(t.backoff)) fail(`${path}.backoff`, t.backoff, 'expected an object');
  if (!Array.isArray(t.dependsOn) || t.dependsOn.some((d) => typeof d !== 'string'))
    fail(`${path}.dependsOn`, t.dependsOn, 'expected an array of ids');
  if (typeof t.failOnDependencyFailure !== 'boolean')
    fail(`${path}.failOnDependencyFailure`, t.failOnDependencyFailure, 'expected a boolean');
  str(t, path, 'group', true);
  if (t.error !== undefined) {
    if (!isObj(t.error)) fail(`${path}.error`, t.error, 'expected an object');
    str(t.error, `${path}.error`, 'name');
    str(t.error, `${path}.error`, 'message', true);
  }
}

function checkSilence(s: Obj, path: string): void {
  if (!Array.isArray(s.matchers) || s.matchers.length === 0)
    fail(`${path}.matchers`, s.matchers, 'expected at least one label matcher');
  s.matchers.forEach((m, i) => {
    if (!isObj(m)) fail(`${path}.matchers[${i}]`, m, 'expected an object');
    str(m, `${path}.matchers[${i}]`, 'name');
    str(m, `${path}.matchers[${i}]`, 'value', true);
  });
  for (const key of ['startsAt', 'endsAt']) {
    if (typeof s[key] !== 'string' || Number.isNaN(Date.parse(s[key] as string)))
      fail(`${path}.${key}`, s[key], 'expected an ISO 8601 time');
  }
  str(s, path, 'createdBy');
  str(s, path, 'comment', true);
}

/**
 * @internal The document, checked: a {@link MaintenanceBackupError} naming the first bad field
 * otherwise. Missing lists count as empty.
 */
export function checkBackup(input: unknown): BackupDocument {
  const doc = typeof input === 'string' ? parse(input) : input;
  if (!isObj(doc)) fail('document', doc, 'expected a JSON object');
  if (doc.version !== BACKUP_VERSION) fail('version', doc.version, `expected ${BACKUP_VERSION}`);
  const seen = new Set<string>();
  list(doc, 'schedules').forEach((s, i) => {
    checkSchedule(s, `schedules[${i}]`);
    if (seen.has(s.name as string)) fail(`schedules[${i}].name`, s.name, 'expected a unique name');
    seen.add(s.name as string);
  });
  for (const [i, t] of list(doc, 'deadTasks').entries()) checkDead(t, `deadTasks[${i}]`);
  list(doc, 'alertRules').forEach((r, i) => {
    str(r, `alertRules[${i}]`, 'name');
    str(r, `alertRules[${i}]`, 'watch');
    if (!isObj(r.condition)) fail(`alertRules[${i}].condition`, r.condition, 'expected an object');
  });
  for (const [i, s] of list(doc, 'silences').entries()) checkSilence(s, `silences[${i}]`);
  return {
    version: BACKUP_VERSION,
    exportedAt: typeof doc.exportedAt === 'string' ? doc.exportedAt : '',
    schedules: list(doc, 'schedules'),
    deadTasks: list(doc, 'deadTasks'),
    alertRules: list(doc, 'alertRules'),
    silences: list(doc, 'silences'),
  } as unknown as BackupDocument;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    return fail('document', text, `expected JSON text (${(error as Error).message})`);
  }
}

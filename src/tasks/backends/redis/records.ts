import {
  formatTraceparent,
  parseTraceparent,
  parseTracestate,
  type TraceContext,
} from '../../../core/trace-context.js';
import type {
  BackoffSpec,
  ClaimedTask,
  NewTask,
  TaskErrorInfo,
  TaskRecord,
  TaskState,
} from '../../types.js';

/** Task hash fields read outside the scripts (see scripts/common.ts for all of them). */
export const FIELD = {
  state: 's',
} as const;

const NO_DEPENDENCIES: readonly string[] = Object.freeze([]);

/** The `m` field: what only the engine reads, in one JSON text. */
interface TaskMeta {
  mr: number;
  bo: BackoffSpec;
  to: number;
  ca: number;
  dp?: string[];
  /** The submitter's trace context: its `traceparent`, and its `tracestate` if any. */
  tp?: string;
  ts?: string;
}

/** The `m` field of a new task. */
export function metaJson(t: NewTask, deps: readonly string[]): string {
  const meta: TaskMeta = { mr: t.maxRetries, bo: t.backoff, to: t.timeoutMs, ca: t.createdAt };
  if (deps.length > 0) meta.dp = [...deps];
  if (t.trace !== undefined) {
    meta.tp = formatTraceparent(t.trace);
    if (t.trace.traceState !== undefined) meta.ts = t.trace.traceState;
  }
  return JSON.stringify(meta);
}

/** The trace context kept in the `m` field; `undefined` when none (or not one this reads). */
function traceOf(meta: Partial<TaskMeta>): TraceContext | undefined {
  if (meta.tp === undefined) return undefined;
  const trace = parseTraceparent(meta.tp);
  if (trace === undefined) return undefined;
  const state = parseTracestate(meta.ts);
  return state === undefined ? trace : { ...trace, traceState: state };
}

/** The `m` field, parsed; empty for a hash without it (written by something else). */
function readMeta(text: string | null | undefined): Partial<TaskMeta> {
  return ((text === null || text === undefined ? undefined : parseJson(text)) ??
    {}) as Partial<TaskMeta>;
}

/**
 * The tasks of a claim script's reply: `width` entries per task (see the CLAIM script), with the
 * payloads read apart, or inline as each task's last entry when `payloads` is undefined.
 */
export function claimedTasks(
  rows: (string | number | null)[],
  width: number,
  payloads: (string | null)[] | undefined,
  queue: string,
  workerId: string,
  now: number,
  leaseUntil: number,
): ClaimedTask[] {
  const count = rows.length / width;
  const claimed: ClaimedTask[] = new Array(count);
  // Tasks submitted together share their meta text (same options, same creation time): parsed
  // once per run of equal texts. The records then share its backoff and dependency list, frozen
  // so that a change to one task's (an event listener's, say) cannot reach its neighbours.
  let metaText: string | null | undefined;
  let meta: Partial<TaskMeta> = {};
  let trace: TraceContext | undefined;
  for (let i = 0, at = 0; i < count; i++, at += width) {
    const text = rows[at + 4] as string | null;
    if (text !== metaText || i === 0) {
      metaText = text;
      meta = readMeta(text);
      if (meta.bo !== undefined) Object.freeze(meta.bo);
      if (meta.dp !== undefined) Object.freeze(meta.dp);
      trace = traceOf(meta);
      if (trace !== undefined) Object.freeze(trace);
    }
    const task: TaskRecord = {
      id: rows[at] as string,
      name: (rows[at + 3] as string | null) ?? '',
      queue,
      // A payload gone meanwhile (its task finished elsewhere and was trimmed) is no JSON: the
      // attempt fails as a bad payload, and its finish is refused by the token.
      payload: ((payloads === undefined ? rows[at + 11] : payloads[i]) as string | null) ?? '',
      priority: Number(rows[at + 5] ?? 0),
      runAt: Number(rows[at + 6] ?? 0),
      maxRetries: Number(meta.mr ?? 0),
      backoff: meta.bo ?? { ...DEFAULT_BACKOFF },
      timeoutMs: Number(meta.to ?? 0),
      dependsOn: meta.dp ?? NO_DEPENDENCIES,
      failOnDependencyFailure: rows[at + 7] !== '0',
      createdAt: Number(meta.ca ?? 0),
      // What the claim wrote; `attempts` is the number this attempt has once it starts.
      state: 'active',
      attempts: Number(rows[at + 2]),
      startedAt: now,
      workerId,
    };
    if (trace !== undefined) task.trace = trace;
    const error = rows[at + 8];
    if (error !== null && error !== undefined)
      task.error = parseJson(error as string) as TaskErrorInfo;
    const progress = rows[at + 9];
    if (progress !== null && progress !== undefined) task.progress = progress as string;
    const group = rows[at + 10];
    if (group !== null && group !== undefined) task.group = group as string;
    claimed[i] = { task, token: String(rows[at + 1]), leaseUntil };
    // The record holds the payload now. Left in the reply too, every payload of the claim
    // lived as long as the reply array did, and V8's traces of a loaded worker showed
    // young-generation collections copying and promoting the payloads of whole claims.
    if (payloads !== undefined) payloads[i] = null;
  }
  return claimed;
}

/** The record of a task hash (`h`) and its payload. */
export function recordFromHash(
  queue: string,
  id: string,
  h: Record<string, string>,
  payload: string | null | undefined,
): TaskRecord {
  const meta = readMeta(h.m);
  const record: TaskRecord = {
    id,
    name: h.n ?? '',
    queue,
    payload: payload ?? '',
    priority: Number(h.pr ?? 0),
    runAt: Number(h.ra ?? 0),
    maxRetries: Number(meta.mr ?? 0),
    backoff: meta.bo ?? { ...DEFAULT_BACKOFF },
    timeoutMs: Number(meta.to ?? 0),
    dependsOn: meta.dp ?? NO_DEPENDENCIES,
    failOnDependencyFailure: h.ff !== '0',
    createdAt: Number(meta.ca ?? 0),
    state: (h.s ?? 'waiting') as TaskState,
    attempts: Number(h.a ?? 0),
  };
  const trace = traceOf(meta);
  if (trace !== undefined) record.trace = trace;
  if (h.sa !== undefined) record.startedAt = Number(h.sa);
  if (h.fa !== undefined) record.finishedAt = Number(h.fa);
  if (h.r !== undefined) record.result = h.r;
  if (h.e !== undefined) record.error = parseJson(h.e) as TaskErrorInfo;
  if (h.pg !== undefined) record.progress = h.pg;
  if (h.g !== undefined) record.group = h.g;
  // A finished task keeps the fields of its last lease in Redis; the record shows a worker only
  // while one holds it.
  if (h.w !== undefined && record.state === 'active') record.workerId = h.w;
  return record;
}

/** Only for a hash without its `m` field (written by something else). */
const DEFAULT_BACKOFF: BackoffSpec = {
  type: 'exponential',
  delayMs: 1_000,
  factor: 2,
  maxDelayMs: 60_000,
  jitter: 0,
};

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The JSON text stored for a task's error: its known fields only, as strings. */
export function errorJson(error: TaskErrorInfo): string {
  const info: TaskErrorInfo = { name: String(error.name), message: String(error.message) };
  if (error.stack !== undefined) info.stack = String(error.stack);
  if (error.code !== undefined) info.code = String(error.code);
  return JSON.stringify(info);
}

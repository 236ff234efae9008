import { rejectAfter } from '../core/timeout.js';
import { createDetector } from './detectors/index.js';
import { alertFingerprint } from './fingerprint.js';
import { advance, INACTIVE, type LifecycleInput, type SeriesState } from './lifecycle.js';
import type { CompiledRule } from './rule.js';
import type { AlertLabels, Detector, DetectorVerdict, SeriesValue, ValueSource } from './types.js';
import type { ViewEntry } from './views.js';

/** @internal One series of one rule: its detector and where it stands. */
export interface SeriesRuntime {
  readonly fingerprint: string;
  readonly labels: AlertLabels;
  readonly detector: Detector;
  state: SeriesState;
  value: number | null;
  verdict: DetectorVerdict | undefined;
  lastEvaluatedAt: number;
  /** Consecutive evaluations whose read had other series but not this one. */
  misses: number;
  /** Stands for the whole rule while its source gave no series or failed. */
  readonly placeholder: boolean;
  /**
   * The string-valued labels the source last named it by, `[name, value, ...]` in their order:
   * compared with the labels at the same position of the next read (see `RuleRuntime.lastRead`).
   */
  named: readonly string[];
  /** The evaluation that last read this series, to skip a duplicate in one read. */
  seenIn: number;
  /** Where it stood at the last tick, for its public view (see `AlertViews`). */
  view?: ViewEntry | undefined;
}

/** @internal A rule with its series and its schedule. */
export interface RuleRuntime {
  readonly rule: CompiledRule;
  readonly series: Map<string, SeriesRuntime>;
  /**
   * The series at each position of the last read: the first guess for the series at that
   * position in the next one. Holds only series of that read (none is deleted while listed).
   */
  readonly lastRead: SeriesRuntime[];
  /** Monotonic time (clock.now()) the rule is next due. */
  nextDueAt: number;
  lastEvaluatedAt?: number;
  lastDurationMs?: number;
  lastError?: string;
}

/** @internal A state change of one series at one evaluation. */
export interface SeriesChange {
  series: SeriesRuntime;
  from: SeriesState;
}

/** A known series missing this many reads in a row (while others come) is over. */
const MISSES_TO_CLEAR = 2;

/** Numbers each evaluation of a rule, to tell the series it read from the others. */
let evaluations = 0;

/**
 * @internal Reads each source at most once per evaluation, whatever the number of rules that
 * watch it, each read bounded by `timeoutMs`.
 */
export function sourceReader(
  sources: ReadonlyMap<string, ValueSource>,
  timeoutMs: number,
): (name: string) => Promise<readonly SeriesValue[]> {
  const reads = new Map<string, Promise<readonly SeriesValue[]>>();
  return (name) => {
    let read = reads.get(name);
    if (read === undefined) {
      const source = sources.get(name);
      read =
        source === undefined
          ? Promise.reject(new Error(`no value source named "${name}"`))
          : bounded(() => source.read(), timeoutMs, `value source "${name}"`);
      read.catch(() => undefined);
      reads.set(name, read);
    }
    return read;
  };
}

/**
 * @internal Evaluates one rule at `at` (epoch ms): reads its value(s), feeds each series'
 * detector, advances each series' lifecycle, and returns the series whose state changed. Never
 * throws: a read that fails or times out puts the rule's series in `error`.
 */
export function evaluateRule(
  runtime: RuleRuntime,
  read: (name: string) => Promise<readonly SeriesValue[]>,
  at: number,
  timeoutMs: number,
): Promise<SeriesChange[]> {
  const { rule } = runtime;
  const values = typeof rule.watch === 'string' ? read(rule.watch) : readWatch(rule, timeoutMs);
  return values.then(
    (list) => judge(runtime, list, at),
    (error: unknown) => failed(runtime, error, at),
  );
}

/** The rule's read failed: every series is in `error`. */
function failed(runtime: RuleRuntime, error: unknown, at: number): SeriesChange[] {
  const message = (error as Error)?.message ?? String(error);
  runtime.lastError = message;
  const changes: SeriesChange[] = [];
  whole(runtime, { kind: 'error', message }, at, changes);
  return changes;
}

/** Judges the values a read gave: each series' detector, then its lifecycle. */
function judge(runtime: RuleRuntime, values: readonly SeriesValue[], at: number): SeriesChange[] {
  const { rule } = runtime;
  if (!Array.isArray(values)) {
    const what = typeof values;
    return failed(
      runtime,
      new Error(`value source "${rule.watch}" returned ${what}, not an array`),
      at,
    );
  }
  runtime.lastError = undefined;
  const changes: SeriesChange[] = [];
  const matching =
    rule.where === undefined ? values : values.filter((v) => matches(v.labels, rule.where!));
  if (matching.length === 0) {
    whole(runtime, noData(rule), at, changes);
    return changes;
  }
  const evaluation = ++evaluations;
  const count = matching.length;
  let seen = 0;
  for (let position = 0; position < count; position++) {
    const item = matching[position]!;
    const series = find(runtime, item.labels, position);
    if (series.seenIn === evaluation) continue;
    series.seenIn = evaluation;
    seen++;
    series.misses = 0;
    series.value =
      typeof item.value === 'number' && Number.isFinite(item.value) ? item.value : null;
    series.verdict = undefined;
    if (series.value === null) {
      step(series, noData(rule), rule, at, changes);
      continue;
    }
    let input: LifecycleInput;
    try {
      series.detector.observe(at, series.value);
      series.verdict = series.detector.evaluate(at);
      // A detector still learning has no verdict: nothing is wrong yet.
      input = series.verdict?.breached ? BREACH : CLEAR;
    } catch (error) {
      input = {
        kind: 'error',
        message: `evaluating the condition: ${(error as Error)?.message ?? String(error)}`,
      };
    }
    step(series, input, rule, at, changes);
  }
  if (runtime.lastRead.length !== count) runtime.lastRead.length = count;
  // The known series this read did not give: gone, or missing for a while.
  if (seen < runtime.series.size) {
    runtime.series.forEach((series) => {
      if (series.seenIn === evaluation) return;
      series.value = null;
      series.verdict = undefined;
      series.misses++;
      step(
        series,
        series.placeholder || series.misses >= MISSES_TO_CLEAR ? CLEAR : noData(rule),
        rule,
        at,
        changes,
      );
      if (series.state.state === 'inactive' || series.state.state === 'resolved') {
        runtime.series.delete(series.fingerprint);
      }
    });
  }
  return changes;
}

const BREACH: LifecycleInput = Object.freeze({ kind: 'breach' });
const CLEAR: LifecycleInput = Object.freeze({ kind: 'clear' });
const NO_DATA: LifecycleInput = Object.freeze({ kind: 'nodata' });

/** What no value means for `rule`. */
function noData(rule: CompiledRule): LifecycleInput {
  return rule.noData === 'ok' ? CLEAR : rule.noData === 'alerting' ? BREACH : NO_DATA;
}

/** Advances one series, noting a change of state in `changes`. */
function step(
  series: SeriesRuntime,
  input: LifecycleInput,
  rule: CompiledRule,
  at: number,
  changes: SeriesChange[],
): void {
  const next = advance(series.state, input, rule, at);
  series.lastEvaluatedAt = at;
  // A resolved alert going back to inactive is housekeeping, not news: no event, no history.
  const quiet = series.state.state === 'resolved' && next.state === 'inactive';
  if (next.state !== series.state.state && !quiet) changes.push({ series, from: series.state });
  series.state = next;
}

/** The same input for every known series, or for one standing for the rule when it has none yet. */
function whole(
  runtime: RuleRuntime,
  input: LifecycleInput,
  at: number,
  changes: SeriesChange[],
): void {
  if (runtime.series.size === 0) ensure(runtime, {}, true);
  for (const series of runtime.series.values()) {
    series.value = null;
    series.verdict = undefined;
    step(series, input, runtime.rule, at, changes);
  }
}

/**
 * The series named by `labels`, read at `position` of the rule's read. Sources list their series
 * in the same order from one read to the next, so the series read at this position last time is
 * tried first, by comparing labels: no labels merged, no fingerprint hashed.
 */
function find(runtime: RuleRuntime, labels: AlertLabels, position: number): SeriesRuntime {
  const last = runtime.lastRead[position];
  if (last !== undefined && sameLabels(last.named, labels)) return last;
  const series = ensure(runtime, labels, false);
  series.named = labelList(labels);
  runtime.lastRead[position] = series;
  return series;
}

/** The string-valued labels of a source's series as `[name, value, name, value...]`, in order. */
function labelList(labels: AlertLabels | undefined): string[] {
  const list: string[] = [];
  for (const name in labels) {
    if (!Object.hasOwn(labels, name)) continue;
    const value = labels[name];
    if (typeof value === 'string') list.push(name, value);
  }
  return list;
}

/** True when `labels` has exactly the string-valued labels of `list`, in the same order. */
function sameLabels(list: readonly string[], labels: AlertLabels | undefined): boolean {
  let i = 0;
  for (const name in labels) {
    if (!Object.hasOwn(labels, name)) continue;
    const value = labels[name];
    if (typeof value !== 'string') continue;
    if (list[i] !== name || list[i + 1] !== value) return false;
    i += 2;
  }
  return i === list.length;
}

/** The value of a rule that watches a function, as the one series it stands for. */
async function readWatch(rule: CompiledRule, timeoutMs: number): Promise<readonly SeriesValue[]> {
  const watch = rule.watch as () => number | Promise<number>;
  const value = await bounded(() => watch(), timeoutMs, `rule "${rule.name}"'s watch function`);
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) {
    return [{ labels: {}, value: null }];
  }
  if (typeof value !== 'number')
    throw new Error(`the watch function returned ${typeof value}, not a number`);
  return [{ labels: {}, value }];
}

function ensure(
  runtime: RuleRuntime,
  seriesLabels: AlertLabels,
  placeholder: boolean,
): SeriesRuntime {
  const { rule } = runtime;
  // Rule labels win over the series', and alertname over both, as in Prometheus.
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(seriesLabels ?? {})) if (typeof v === 'string') labels[k] = v;
  Object.assign(labels, rule.labels, { alertname: rule.name });
  const fingerprint = alertFingerprint(rule.name, labels);
  let series = runtime.series.get(fingerprint);
  if (series === undefined) {
    series = {
      fingerprint,
      labels,
      detector: createDetector(rule.condition, rule.name),
      state: INACTIVE,
      value: null,
      verdict: undefined,
      lastEvaluatedAt: 0,
      misses: 0,
      placeholder,
      named: [],
      seenIn: 0,
      view: undefined,
    };
    runtime.series.set(fingerprint, series);
  }
  return series;
}

function matches(labels: AlertLabels, where: AlertLabels): boolean {
  for (const key in where) if (labels?.[key] !== where[key]) return false;
  return true;
}

function bounded<T>(read: () => T | Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return Promise.resolve().then(() => {
    const result = read();
    // An answer given at once cannot be late: only a pending one needs a timer.
    if (typeof (result as PromiseLike<T> | undefined)?.then !== 'function') return result as T;
    return rejectAfter(
      Promise.resolve(result),
      timeoutMs,
      `${what} did not answer within ${timeoutMs} ms`,
    );
  });
}

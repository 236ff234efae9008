import { advance, type LifecycleInput } from './lifecycle.js';
import type { ReadSlot } from './reads.js';
import type { CompiledRule } from './rule.js';
import {
  ensureSeries,
  findSeries,
  type RuleRuntime,
  type SeriesChange,
  type SeriesRuntime,
} from './series.js';
import type { AlertLabels, SeriesValue } from './types.js';

/** A known series missing this many reads in a row (while others come) is over. */
const MISSES_TO_CLEAR = 2;

/** Numbers each evaluation of a rule, to tell the series it read from the others. */
let evaluations = 0;

/**
 * @internal Evaluates one rule at `at` (epoch ms) from what its read gave: feeds each series'
 * detector, advances each series' lifecycle, and appends the series whose state changed to
 * `changes`. Never throws: a read that failed or timed out, or values that cannot be read (an
 * array with a hole), put the rule's series in `error`.
 */
export function evaluateRule(
  runtime: RuleRuntime,
  read: ReadSlot,
  at: number,
  changes: SeriesChange[],
): void {
  if (read.failed) {
    failed(runtime, read.error, at, changes);
    return;
  }
  try {
    judge(runtime, read.values, at, changes);
  } catch (error) {
    // The other rules and the tick's views go on: one bad read fails its own rule only.
    failed(runtime, error, at, changes);
  }
}

/** The rule's read failed: every series is in `error`. */
function failed(runtime: RuleRuntime, error: unknown, at: number, changes: SeriesChange[]): void {
  const message = (error as Error)?.message ?? String(error);
  runtime.lastError = message;
  whole(runtime, { kind: 'error', message }, at, changes);
}

/** Judges the values a read gave: each series' detector, then its lifecycle. */
function judge(runtime: RuleRuntime, values: unknown, at: number, changes: SeriesChange[]): void {
  const { rule } = runtime;
  if (!Array.isArray(values)) {
    const what = typeof values;
    failed(
      runtime,
      new Error(`value source "${rule.watch}" returned ${what}, not an array`),
      at,
      changes,
    );
    return;
  }
  runtime.lastError = undefined;
  const { where } = rule;
  const evaluation = ++evaluations;
  // Positions count the series the `where` keeps, without building the filtered list.
  let position = 0;
  let seen = 0;
  for (const item of values as readonly SeriesValue[]) {
    if (where !== undefined && !matches(item.labels, where)) continue;
    const series = findSeries(runtime, item.labels, position++);
    if (series.seenIn === evaluation) continue;
    series.seenIn = evaluation;
    seen++;
    series.misses = 0;
    const value = typeof item.value === 'number' && Number.isFinite(item.value) ? item.value : null;
    series.value = value;
    series.recordJudgement(false);
    if (value === null) {
      step(runtime, series, noData(rule), at, changes);
      continue;
    }
    let input: LifecycleInput;
    try {
      series.detector.observe(at, value);
      const breached = series.detector.judge(at);
      series.recordJudgement(breached !== undefined);
      // A detector still learning has no verdict: nothing is wrong yet.
      input = breached === true ? BREACH : CLEAR;
    } catch (error) {
      input = {
        kind: 'error',
        message: `evaluating the condition: ${(error as Error)?.message ?? String(error)}`,
      };
    }
    step(runtime, series, input, at, changes);
  }
  if (position === 0) {
    whole(runtime, noData(rule), at, changes);
    return;
  }
  if (runtime.lastRead.length !== position) runtime.lastRead.length = position;
  // The known series this read did not give: gone, or missing for a while.
  if (seen < runtime.series.size) {
    for (const series of runtime.series.values()) {
      if (series.seenIn === evaluation) continue;
      series.value = null;
      series.recordJudgement(false);
      series.misses++;
      step(
        runtime,
        series,
        series.placeholder || series.misses >= MISSES_TO_CLEAR ? CLEAR : noData(rule),
        at,
        changes,
      );
      if (series.state.state === 'inactive' || series.state.state === 'resolved') {
        runtime.series.delete(series.fingerprint);
      }
    }
  }
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
  runtime: RuleRuntime,
  series: SeriesRuntime,
  input: LifecycleInput,
  at: number,
  changes: SeriesChange[],
): void {
  const next = advance(series.state, input, runtime.rule, at);
  series.lastEvaluatedAt = at;
  // A resolved alert going back to inactive is housekeeping, not news: no event, no history.
  const quiet = series.state.state === 'resolved' && next.state === 'inactive';
  if (next.state !== series.state.state && !quiet) {
    changes.push({ runtime, series, from: series.state });
  }
  series.state = next;
}

/** The same input for every known series, or for one standing for the rule when it has none yet. */
function whole(
  runtime: RuleRuntime,
  input: LifecycleInput,
  at: number,
  changes: SeriesChange[],
): void {
  if (runtime.series.size === 0) ensureSeries(runtime, {}, true);
  for (const series of runtime.series.values()) {
    series.value = null;
    series.recordJudgement(false);
    step(runtime, series, input, at, changes);
  }
}

function matches(labels: AlertLabels, where: AlertLabels): boolean {
  for (const key in where) if (labels?.[key] !== where[key]) return false;
  return true;
}

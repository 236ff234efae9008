import { rejectAfter } from '../core/timeout.js';
import { createDetector } from './detectors/index.js';
import { alertFingerprint } from './fingerprint.js';
import { advance, INACTIVE, type LifecycleInput, type SeriesState } from './lifecycle.js';
import type { CompiledRule } from './rule.js';
import type { AlertLabels, Detector, DetectorVerdict, SeriesValue, ValueSource } from './types.js';

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
}

/** @internal A rule with its series and its schedule. */
export interface RuleRuntime {
  readonly rule: CompiledRule;
  readonly series: Map<string, SeriesRuntime>;
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
export async function evaluateRule(
  runtime: RuleRuntime,
  read: (name: string) => Promise<readonly SeriesValue[]>,
  at: number,
  timeoutMs: number,
): Promise<SeriesChange[]> {
  const { rule } = runtime;
  const changes: SeriesChange[] = [];
  const step = (series: SeriesRuntime, input: LifecycleInput) => {
    const next = advance(series.state, input, rule, at);
    series.lastEvaluatedAt = at;
    // A resolved alert going back to inactive is housekeeping, not news: no event, no history.
    const quiet = series.state.state === 'resolved' && next.state === 'inactive';
    if (next.state !== series.state.state && !quiet) changes.push({ series, from: series.state });
    series.state = next;
  };
  const noData = (): LifecycleInput =>
    rule.noData === 'ok'
      ? { kind: 'clear' }
      : rule.noData === 'alerting'
        ? { kind: 'breach' }
        : { kind: 'nodata' };
  const whole = (input: LifecycleInput) => {
    // Every known series, or one standing for the rule when it has none yet.
    if (runtime.series.size === 0) ensure(runtime, {}, true);
    for (const series of runtime.series.values()) {
      series.value = null;
      series.verdict = undefined;
      step(series, input);
    }
  };

  let values: readonly SeriesValue[];
  try {
    values = await readRule(rule, read, timeoutMs);
    runtime.lastError = undefined;
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    runtime.lastError = message;
    whole({ kind: 'error', message });
    return changes;
  }
  const matching =
    rule.where === undefined ? values : values.filter((v) => matches(v.labels, rule.where!));
  if (matching.length === 0) {
    whole(noData());
    return changes;
  }
  const seen = new Set<string>();
  for (const item of matching) {
    const series = ensure(runtime, item.labels, false);
    if (seen.has(series.fingerprint)) continue;
    seen.add(series.fingerprint);
    series.misses = 0;
    series.value =
      typeof item.value === 'number' && Number.isFinite(item.value) ? item.value : null;
    series.verdict = undefined;
    if (series.value === null) {
      step(series, noData());
      continue;
    }
    let input: LifecycleInput;
    try {
      series.detector.observe(at, series.value);
      series.verdict = series.detector.evaluate(at);
      // A detector still learning has no verdict: nothing is wrong yet.
      input = series.verdict?.breached ? { kind: 'breach' } : { kind: 'clear' };
    } catch (error) {
      input = {
        kind: 'error',
        message: `evaluating the condition: ${(error as Error)?.message ?? String(error)}`,
      };
    }
    step(series, input);
  }
  for (const series of runtime.series.values()) {
    if (seen.has(series.fingerprint)) continue;
    series.value = null;
    series.verdict = undefined;
    series.misses++;
    step(
      series,
      series.placeholder || series.misses >= MISSES_TO_CLEAR ? { kind: 'clear' } : noData(),
    );
    if (series.state.state === 'inactive' || series.state.state === 'resolved') {
      runtime.series.delete(series.fingerprint);
    }
  }
  return changes;
}

async function readRule(
  rule: CompiledRule,
  read: (name: string) => Promise<readonly SeriesValue[]>,
  timeoutMs: number,
): Promise<readonly SeriesValue[]> {
  const watch = rule.watch;
  if (typeof watch === 'string') {
    const values = await read(watch);
    if (!Array.isArray(values))
      throw new Error(`value source "${watch}" returned ${typeof values}, not an array`);
    return values;
  }
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
  return rejectAfter(
    Promise.resolve().then(read),
    timeoutMs,
    `${what} did not answer within ${timeoutMs} ms`,
  );
}

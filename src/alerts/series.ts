import { createDetector } from './detectors/index.js';
import { alertFingerprint } from './fingerprint.js';
import { INACTIVE, type SeriesState } from './lifecycle.js';
import type { CompiledRule } from './rule.js';
import type { RuleSeed } from './rule-seed.js';
import type { AlertLabels, Detector, DetectorVerdict } from './types.js';
import type { ViewEntry } from './views.js';

/**
 * @internal One series of one rule: its detector and where it stands. The detector's evidence
 * is built only when read ({@link SeriesRuntime.verdict}): a tick judges every series, and
 * shows few.
 */
export class SeriesRuntime {
  readonly fingerprint: string;
  readonly labels: AlertLabels;
  /** Replaced once, by the real detector, when its rule's history replay ends. */
  detector: Detector;
  /** Stands for the whole rule while its source gave no series or failed. */
  readonly placeholder: boolean;
  state: SeriesState = INACTIVE;
  value: number | null = null;
  lastEvaluatedAt = 0;
  /** Consecutive evaluations whose read had other series but not this one. */
  misses = 0;
  /**
   * The string-valued labels the source last named it by, `[name, value, ...]` in their order:
   * compared with the labels at the same position of the next read (see `RuleRuntime.lastRead`).
   */
  named: readonly string[] = [];
  /** The evaluation that last read this series, to skip a duplicate in one read. */
  seenIn = 0;
  /** Where it stood at the last tick, for its public view (see `AlertViews`). */
  view: ViewEntry | undefined = undefined;
  /** The detector judged `value` and had a verdict. */
  #judged = false;
  /** Its evidence, once built. */
  #verdict: DetectorVerdict | undefined = undefined;

  constructor(fingerprint: string, labels: AlertLabels, detector: Detector, placeholder: boolean) {
    this.fingerprint = fingerprint;
    this.labels = labels;
    this.detector = detector;
    this.placeholder = placeholder;
  }

  /**
   * The detector's evidence on `value`, built at the first read after each judgement and shared
   * by the views built until the next. A tick judges its series and refreshes their views with no
   * await in between, so whoever reads it between ticks gets the tick's evidence.
   */
  get verdict(): DetectorVerdict | undefined {
    if (!this.#judged) return undefined;
    this.#verdict ??= this.detector.verdict();
    return this.#verdict;
  }

  /** Records whether the detector had a verdict on `value` (false for no value, or an error). */
  recordJudgement(had: boolean): void {
    this.#judged = had;
    this.#verdict = undefined;
  }
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
  /** Its seeding from the metrics history, once started (see `seedRules`). */
  seed?: RuleSeed;
}

/** @internal A state change of one series at one evaluation. */
export interface SeriesChange {
  runtime: RuleRuntime;
  series: SeriesRuntime;
  from: SeriesState;
}

/**
 * @internal The series named by `labels`, read at `position` of the rule's read. Sources list
 * their series in the same order from one read to the next, so the series read at this position
 * last time is tried first, by comparing labels: no labels merged, no fingerprint hashed.
 */
export function findSeries(
  runtime: RuleRuntime,
  labels: AlertLabels,
  position: number,
): SeriesRuntime {
  const last = runtime.lastRead[position];
  if (last !== undefined && sameLabels(last.named, labels)) return last;
  const series = ensureSeries(runtime, labels, false);
  series.named = labelList(labels);
  runtime.lastRead[position] = series;
  return series;
}

/** @internal The series of `runtime` with these labels, created (inactive) when new. */
export function ensureSeries(
  runtime: RuleRuntime,
  seriesLabels: AlertLabels,
  placeholder: boolean,
): SeriesRuntime {
  const { rule } = runtime;
  const { labels, fingerprint } = seriesIdentity(rule, seriesLabels);
  let series = runtime.series.get(fingerprint);
  if (series === undefined) {
    const create = () => createDetector(rule.condition, rule.name);
    const detector = runtime.seed?.detectorFor(fingerprint, create) ?? create();
    series = new SeriesRuntime(fingerprint, labels, detector, placeholder);
    runtime.series.set(fingerprint, series);
  }
  return series;
}

/** @internal The labels and fingerprint of the alert of `rule` for a source's series `seriesLabels`. */
export function seriesIdentity(
  rule: CompiledRule,
  seriesLabels: AlertLabels,
): { labels: Record<string, string>; fingerprint: string } {
  // Rule labels win over the series', and alertname over both, as in Prometheus.
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(seriesLabels ?? {})) if (typeof v === 'string') labels[k] = v;
  Object.assign(labels, rule.labels, { alertname: rule.name });
  return { labels, fingerprint: alertFingerprint(rule.name, labels) };
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

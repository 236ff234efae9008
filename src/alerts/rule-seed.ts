import type { AlertHistorySeries } from './history-reader.js';
import { feed, SeedingDetector } from './seed-detector.js';
import type { AlertLabels, Detector } from './types.js';

/** @internal What {@link RuleSeed.complete} needs of a rule and its series. */
export interface SeedTarget {
  /** The rule's series so far, whose detector the replay replaces. */
  readonly series: Iterable<{ readonly fingerprint: string; detector: Detector }>;
  readonly where: AlertLabels | undefined;
  /** The fingerprint of the rule's alert for a source's series. */
  fingerprint(labels: AlertLabels): string;
  create(): Detector;
  /** The most detectors kept for series not read yet. */
  readonly maxSeries: number;
}

/**
 * @internal Where one rule's seeding from the metrics history stands. While the history is read,
 * every new series of the rule gets a {@link SeedingDetector} that keeps its live readings; once
 * it is answered (or given up on), those series get their real detector, fed the past then the
 * live readings, and the label sets the history holds but no reading named yet get a detector
 * fed the past, kept for when they show up.
 */
export class RuleSeed {
  #pending = true;
  /** Detectors seeded for series not read live yet, by fingerprint. */
  readonly #ready = new Map<string, Detector>();
  /** How many series the history answered, and how many points it replayed. */
  series = 0;
  points = 0;

  /** True until {@link RuleSeed.complete}. */
  get pending(): boolean {
    return this.#pending;
  }

  /**
   * The detector of a new series `fingerprint`: one that buffers while the history is read, the
   * one seeded for it once read, or `undefined` (a fresh one).
   */
  detectorFor(fingerprint: string, create: () => Detector): Detector | undefined {
    if (this.#pending) return new SeedingDetector(create());
    const ready = this.#ready.get(fingerprint);
    if (ready !== undefined) this.#ready.delete(fingerprint);
    return ready;
  }

  /**
   * Ends the seeding with what the history answered (`undefined`: nothing, the detectors learn
   * live).
   */
  complete(target: SeedTarget, past: readonly AlertHistorySeries[] | undefined): void {
    if (!this.#pending) return;
    this.#pending = false;
    const { where, maxSeries } = target;
    const byFingerprint = new Map<string, AlertHistorySeries>();
    for (const series of Array.isArray(past) ? past : []) {
      if (series === null || typeof series !== 'object' || !Array.isArray(series.points)) continue;
      if (where !== undefined && !includes(series.labels, where)) continue;
      if (byFingerprint.size >= maxSeries) break;
      byFingerprint.set(target.fingerprint(series.labels), series);
    }
    for (const series of target.series) {
      const history = byFingerprint.get(series.fingerprint);
      byFingerprint.delete(series.fingerprint);
      const detector = series.detector;
      // A series judged live before the rule was seeded keeps what it learned: no reading twice.
      if (!(detector instanceof SeedingDetector)) continue;
      if (history !== undefined) this.#count(history);
      series.detector = detector.replay(history?.points);
    }
    for (const [fingerprint, history] of byFingerprint) {
      const detector = target.create();
      feed(detector, history.points, Number.POSITIVE_INFINITY);
      this.#count(history);
      this.#ready.set(fingerprint, detector);
    }
  }

  #count(history: AlertHistorySeries): void {
    this.series++;
    this.points += history.points.length;
  }
}

function includes(labels: AlertLabels | undefined, where: AlertLabels): boolean {
  for (const key in where) if (labels?.[key] !== where[key]) return false;
  return true;
}

import {
  type AlertExtras,
  alertView,
  type RenderedAnnotations,
  type SeriesSnapshot,
} from './alert-view.js';
import type { SeriesState } from './lifecycle.js';
import type { CompiledRule } from './rule.js';
import type { Alert, AlertDelivery, AlertLabels, AlertState, DetectorVerdict } from './types.js';

/**
 * @internal What one series looked like at the last tick, and its view once built. Kept on the
 * series and refreshed in place, so a tick allocates nothing for a series nobody looks at.
 */
export interface ViewEntry extends AlertExtras {
  readonly rule: CompiledRule;
  readonly fingerprint: string;
  readonly labels: AlertLabels;
  state: SeriesState;
  value: number | null;
  verdict: DetectorVerdict | undefined;
  lastEvaluatedAt: number;
  /** The view built from this record (or put by an operator action), until the next tick. */
  alert: Alert | undefined;
  /** The summary and annotations last rendered, reused while the value and reason stay. */
  rendered: RenderedAnnotations | undefined;
  /** The tick that last refreshed it. */
  generation: number;
  /** In the list (not removed with its rule, not gone from its source). */
  listed: boolean;
}

/** @internal A series as the views read it (a `SeriesRuntime`), with its entry. */
export interface ViewedSeries extends SeriesSnapshot {
  view?: ViewEntry | undefined;
}

/** @internal A rule as the views read it (a `RuleRuntime`). */
export interface ViewedRule {
  readonly rule: CompiledRule;
  readonly series: ReadonlyMap<string, ViewedSeries>;
}

/** @internal What a tick knows of every alert besides its series. */
export interface ViewExtras {
  acknowledged(fingerprint: string): AlertExtras['acknowledged'];
  /** Silences muting an active alert with these labels. */
  silencedBy(labels: AlertLabels): readonly string[] | undefined;
  inhibitedBy(fingerprint: string): readonly string[] | undefined;
}

/**
 * @internal The public view of every alert, as a map from fingerprint to {@link Alert}. Each tick
 * records where every series stands ({@link AlertViews.refresh}); the `Alert` itself is built the
 * first time it is read (the list, an event, a notification) and kept until the next tick, so a
 * tick builds views only for the alerts someone looks at, and renders a summary again only when
 * its value or reason changed. Reads between ticks see the last tick, as before.
 */
export class AlertViews {
  readonly #entries = new Map<string, ViewEntry>();
  #generation = 0;

  get size(): number {
    return this.#entries.size;
  }

  has(fingerprint: string): boolean {
    return this.#entries.has(fingerprint);
  }

  get(fingerprint: string): Alert | undefined {
    const entry = this.#entries.get(fingerprint);
    return entry === undefined ? undefined : build(entry);
  }

  /** Replaces the view of one alert until the next tick (an acknowledgement, a new silence). */
  set(fingerprint: string, alert: Alert): void {
    const entry = this.#entries.get(fingerprint);
    if (entry !== undefined) {
      entry.alert = alert;
      return;
    }
    this.#entries.set(fingerprint, detached(alert, this.#generation));
  }

  delete(fingerprint: string): boolean {
    const entry = this.#entries.get(fingerprint);
    if (entry === undefined) return false;
    entry.listed = false;
    return this.#entries.delete(fingerprint);
  }

  /** The views, or those in a state `listed` keeps (the others are not built). */
  *values(listed?: (state: AlertState) => boolean): IterableIterator<Alert> {
    for (const entry of this.#entries.values()) {
      if (listed !== undefined && !listed(entry.alert?.state ?? entry.state.state)) continue;
      yield build(entry);
    }
  }

  *[Symbol.iterator](): IterableIterator<[string, Alert]> {
    for (const [fingerprint, entry] of this.#entries) yield [fingerprint, build(entry)];
  }

  /**
   * Records where every series of `rules` stands after an evaluation, with its acknowledgement,
   * silences and inhibitions; forgets the alerts whose series are gone. Views built before are
   * dropped (their objects stay as they were), and rebuilt when next read.
   */
  refresh(rules: Iterable<ViewedRule>, extras: ViewExtras): void {
    const generation = ++this.#generation;
    const entries = this.#entries;
    let count = 0;
    let rule: CompiledRule;
    // forEach, not for...of: no iterator result per series.
    const record = (series: ViewedSeries) => {
      count++;
      const entry = (series.view ??= newEntry(rule, series));
      if (!entry.listed) {
        entries.set(series.fingerprint, entry);
        entry.listed = true;
      }
      entry.generation = generation;
      entry.state = series.state;
      entry.value = series.value;
      entry.verdict = series.verdict;
      entry.lastEvaluatedAt = series.lastEvaluatedAt;
      const active = series.state.state !== 'inactive';
      entry.acknowledged = extras.acknowledged(series.fingerprint);
      entry.silencedBy = active ? extras.silencedBy(series.labels) : undefined;
      entry.inhibitedBy = active ? extras.inhibitedBy(series.fingerprint) : undefined;
      entry.deliveries = undefined;
      entry.alert = undefined;
    };
    for (const runtime of rules) {
      rule = runtime.rule;
      runtime.series.forEach(record);
    }
    if (entries.size === count) return;
    for (const [fingerprint, entry] of entries) {
      if (entry.generation === generation) continue;
      entry.listed = false;
      entries.delete(fingerprint);
    }
  }

  /** Shows the deliveries of an alert on its view, from now until the next tick. */
  setDeliveries(fingerprint: string, deliveries: Readonly<Record<string, AlertDelivery>>): void {
    const entry = this.#entries.get(fingerprint);
    if (entry === undefined) return;
    entry.deliveries = deliveries;
    if (entry.alert !== undefined) entry.alert.deliveries = deliveries;
  }
}

function build(entry: ViewEntry): Alert {
  if (entry.alert === undefined) {
    const rendered = (entry.rendered ??= {
      value: null,
      reason: undefined,
      annotations: undefined,
    });
    entry.alert = alertView(entry.rule, entry, entry, rendered);
  }
  return entry.alert;
}

function newEntry(rule: CompiledRule, series: ViewedSeries): ViewEntry {
  return {
    rule,
    fingerprint: series.fingerprint,
    labels: series.labels,
    state: series.state,
    value: series.value,
    verdict: series.verdict,
    lastEvaluatedAt: series.lastEvaluatedAt,
    acknowledged: undefined,
    silencedBy: undefined,
    inhibitedBy: undefined,
    deliveries: undefined,
    alert: undefined,
    rendered: undefined,
    generation: 0,
    listed: false,
  };
}

/**
 * An entry for a view put while its series was gone (an acknowledgement that raced a tick): shown
 * as given until the next tick. It never builds a view, so it needs no rule.
 */
function detached(alert: Alert, generation: number): ViewEntry {
  return {
    rule: undefined as unknown as CompiledRule,
    fingerprint: alert.fingerprint,
    labels: alert.labels,
    state: { state: alert.state },
    value: alert.value,
    verdict: alert.verdict,
    lastEvaluatedAt: 0,
    alert,
    rendered: undefined,
    generation,
    listed: true,
  };
}

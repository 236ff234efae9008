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
 * series and refreshed in place, so a tick allocates nothing for a series nobody looks at. Its
 * state, value and evidence are read from the series when the view is built: a tick judges its
 * series and refreshes their entries with no await in between, so between ticks the series
 * stands where the tick left it.
 */
export class ViewEntry implements AlertExtras, SeriesSnapshot {
  readonly rule: CompiledRule;
  readonly fingerprint: string;
  readonly labels: AlertLabels;
  acknowledged: AlertExtras['acknowledged'] = undefined;
  silencedBy: readonly string[] | undefined = undefined;
  inhibitedBy: readonly string[] | undefined = undefined;
  deliveries: Readonly<Record<string, AlertDelivery>> | undefined = undefined;
  /** The view built from this record (or put by an operator action), until the next tick. */
  alert: Alert | undefined = undefined;
  /** The summary and annotations last rendered, reused while the value and reason stay. */
  rendered: RenderedAnnotations | undefined = undefined;
  /** The tick that last refreshed it. */
  generation = 0;
  /** In the list (not removed with its rule, not gone from its source). */
  listed = false;
  /** The series it records, or what stands for it in a view put while the series was gone. */
  readonly #series: SeriesSnapshot;

  constructor(rule: CompiledRule, series: ViewedSeries) {
    this.rule = rule;
    this.fingerprint = series.fingerprint;
    this.labels = series.labels;
    this.#series = series;
  }

  /**
   * An entry for a view put while its series was gone (an acknowledgement that raced a tick):
   * shown as given until the next tick. It never builds a view, so it needs no rule.
   */
  static detached(alert: Alert, generation: number): ViewEntry {
    const entry = new ViewEntry(undefined as unknown as CompiledRule, {
      fingerprint: alert.fingerprint,
      labels: alert.labels,
      state: { state: alert.state },
      value: alert.value,
      verdict: alert.verdict,
      lastEvaluatedAt: 0,
    });
    entry.alert = alert;
    entry.generation = generation;
    entry.listed = true;
    return entry;
  }

  get state(): SeriesState {
    return this.#series.state;
  }

  get value(): number | null {
    return this.#series.value;
  }

  get verdict(): DetectorVerdict | undefined {
    return this.#series.verdict;
  }

  get lastEvaluatedAt(): number {
    return this.#series.lastEvaluatedAt;
  }
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
  /** None when no alert is acknowledged: the series are not looked up one by one. */
  acknowledged?: ((fingerprint: string) => AlertExtras['acknowledged']) | undefined;
  /** Silences muting an active alert with these labels. */
  silencedBy(labels: AlertLabels): readonly string[] | undefined;
  /** None without inhibition rules. */
  inhibitedBy?: ((fingerprint: string) => readonly string[] | undefined) | undefined;
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

  /** The view of `series`, as `get(series.fingerprint)` gives it, without a lookup. */
  of(series: ViewedSeries): Alert | undefined {
    const entry = series.view;
    return entry?.listed ? build(entry) : undefined;
  }

  /** Replaces the view of one alert until the next tick (an acknowledgement, a new silence). */
  set(fingerprint: string, alert: Alert): void {
    const known = this.#entries.get(fingerprint);
    if (known !== undefined) {
      known.alert = alert;
      return;
    }
    this.#entries.set(fingerprint, ViewEntry.detached(alert, this.#generation));
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
    const { acknowledged, silencedBy, inhibitedBy } = extras;
    // forEach, not for...of: no iterator result per series.
    const record = (series: ViewedSeries) => {
      count++;
      const entry = (series.view ??= new ViewEntry(rule, series));
      if (!entry.listed) {
        entries.set(series.fingerprint, entry);
        entry.listed = true;
      }
      entry.generation = generation;
      const active = series.state.state !== 'inactive';
      entry.acknowledged = acknowledged?.(series.fingerprint);
      entry.silencedBy = active ? silencedBy(series.labels) : undefined;
      entry.inhibitedBy = active ? inhibitedBy?.(series.fingerprint) : undefined;
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

import { alertView } from './alert-view.js';
import { evaluateRule } from './evaluator.js';
import { inhibitedBy } from './inhibit.js';
import { isoTime } from './iso-time.js';
import { isFiringEpisode } from './lifecycle.js';
import type { ReadSlot } from './reads.js';
import type { RuleRuntime, SeriesChange, SeriesRuntime } from './series.js';
import type { TickState } from './state.js';
import type { Alert, AlertTransition } from './types.js';

/** Expired silences are kept this long (as in Alertmanager), then deleted. */
const SILENCE_RETENTION_MS = 5 * 86_400_000;
/** A rule due within this much is evaluated now: timers fire a little early or late. */
const DUE_SLACK_MS = 2;

/**
 * @internal One evaluation: refreshes the shared state (silences, acknowledgements), evaluates
 * the due rules (each source read once), rebuilds the alert views with their silences and
 * inhibitions, records and emits transitions, then lets the notifier send what is due. Never
 * throws: whatever fails is logged and the next tick tries again.
 */
export async function runTick(state: TickState): Promise<void> {
  if (state.closed) return;
  const { clock, guard, log } = state;
  const started = clock.now();
  try {
    await guard.beginTick();
    const [silences, acks] = await Promise.all([
      guard.call('silences', () => guard.store.silences(), undefined),
      guard.call('acknowledgements', () => guard.store.acknowledgements(), undefined),
    ]);
    if (silences !== undefined) state.silences.update(silences);
    if (acks !== undefined) state.acks = new Map(acks);

    const now = clock.now();
    const at = clock.epochNow();
    const due: RuleRuntime[] = [];
    for (const runtime of state.rules.values()) {
      if (runtime.nextDueAt - now <= DUE_SLACK_MS) due.push(runtime);
    }
    const { reads } = state;
    reads.begin();
    const slots: ReadSlot[] = [];
    for (const runtime of due) slots.push(reads.start(runtime));
    const pending = reads.settled();
    if (pending !== undefined) await pending;
    // From here to the views' refresh, no await: nobody sees a rule judged and its view not.
    const changes: SeriesChange[] = [];
    let t = clock.now();
    for (let i = 0; i < due.length; i++) {
      const runtime = due[i]!;
      const read = slots[i]!;
      evaluateRule(runtime, read, at, changes);
      const judged = clock.now();
      // Its read's time (from when they all started) and its own judging.
      runtime.lastEvaluatedAt = at;
      runtime.lastDurationMs = Math.max(0, read.doneAt - now) + (judged - t);
      t = judged;
      // Keep the rule's cadence when on time; start it again from now after a late tick.
      const next = runtime.nextDueAt + runtime.rule.intervalMs;
      runtime.nextDueAt = next > now ? next : now + runtime.rule.intervalMs;
    }
    reads.release();
    rebuildViews(state, at);
    // The store writes of one tick go out together (ioredis pipelines them), not one by one.
    const writes: Promise<unknown>[] = [];
    for (const change of changes) transition(state, change, at, writes);
    await Promise.all(writes);
    await state.notifier.tick(
      firingViews(state),
      (f) => state.views.get(f),
      (f) => state.acks.has(f),
      at,
    );
    // The ledger never changes a record it handed out: views share them.
    state.ledger.forEachAlert((deliveries, fingerprint) =>
      state.views.setDeliveries(fingerprint, deliveries),
    );
    state.ledger.prune((f) => state.views.has(f) || state.notifier.holds(f));
    await purgeSilences(state, at);
  } catch (error) {
    log.error({ err: (error as Error)?.message ?? String(error) }, 'alerts: evaluation failed');
  } finally {
    state.evaluations++;
    state.lastEvaluationMs = clock.now() - started;
  }
}

/**
 * Records every alert's state, evidence, acknowledgement, silences and inhibitions for its view
 * (built when read).
 */
function rebuildViews(state: TickState, at: number): void {
  const { inhibitions } = state.options;
  const inhibited =
    inhibitions.length === 0 ? undefined : inhibitedBy(inhibitionCandidates(state), inhibitions);
  const { acks, silences } = state;
  state.views.refresh(state.rules.values(), {
    acknowledged: acks.size === 0 ? undefined : (fingerprint) => acks.get(fingerprint),
    silencedBy: (labels) => silences.silencing(labels, at),
    inhibitedBy: inhibited === undefined ? undefined : (fingerprint) => inhibited.get(fingerprint),
  });
}

function inhibitionCandidates(state: TickState) {
  const all: { fingerprint: string; labels: Alert['labels']; firing: boolean }[] = [];
  for (const rule of state.rules.values()) {
    rule.series.forEach((series) => {
      all.push({
        fingerprint: series.fingerprint,
        labels: series.labels,
        firing: isFiringEpisode(series.state),
      });
    });
  }
  return all;
}

/** The views of the alerts in a firing episode, in the order of their rules and series. */
function firingViews(state: TickState): Alert[] {
  const out: Alert[] = [];
  const add = (series: SeriesRuntime) => {
    if (!isFiringEpisode(series.state)) return;
    const view = state.views.of(series);
    if (view !== undefined) out.push(view);
  };
  for (const rule of state.rules.values()) rule.series.forEach(add);
  return out;
}

/** Records, announces and acts on one state change; adds the store writes it starts to `writes`. */
function transition(
  state: TickState,
  change: SeriesChange,
  at: number,
  writes: Promise<unknown>[],
): void {
  const { runtime, series } = change;
  const to = series.state.state;
  // A series that ended this tick (gone from its source) has no view left: make one for the events.
  const alert =
    state.views.of(series) ??
    alertView(runtime.rule, series, { deliveries: state.ledger.deliveriesOf(series.fingerprint) });
  const record: AlertTransition = {
    fingerprint: series.fingerprint,
    rule: runtime.rule.name,
    from: change.from.state,
    to,
    at: isoTime(at),
    severity: runtime.rule.severity,
    labels: series.labels,
    value: series.value,
  };
  const limit = state.options.historyLimit;
  state.history.add(record);
  const { guard } = state;
  // Another instance evaluating the same rule records the same change within about one interval.
  const dedupe = state.dedupeHistory ? Math.ceil(runtime.rule.intervalMs * 1.5) : undefined;
  writes.push(guard.call('record', () => guard.store.record(record, limit, dedupe), undefined));
  if ((to === 'resolved' || to === 'inactive') && state.acks.has(series.fingerprint)) {
    // The acknowledgement ends with the episode: the next one escalates again.
    state.acks.delete(series.fingerprint);
    delete alert.acknowledged;
    writes.push(
      guard.write('clearAcknowledgement', () =>
        guard.store.clearAcknowledgement(series.fingerprint),
      ),
    );
  }
  if (to === 'error' && change.from.state !== 'error') {
    state.log.warn(
      { rule: runtime.rule.name, fingerprint: series.fingerprint, err: series.state.error },
      'alert rule evaluation failed',
    );
  }
  state.emitter.emit('transition', record, alert);
  if (to === 'firing' && !isFiringEpisode(change.from)) state.emitter.emit('firing', alert);
  if (to === 'resolved') state.emitter.emit('resolved', alert);
}

async function purgeSilences(state: TickState, at: number): Promise<void> {
  const { guard } = state;
  for (const silence of state.silences.list()) {
    if (Date.parse(silence.endsAt) + SILENCE_RETENTION_MS > at) continue;
    await guard.call('deleteSilence', () => guard.store.deleteSilence(silence.id), false);
  }
}

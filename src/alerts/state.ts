import { type Clock, systemClock } from '../core/clock.js';
import type { Emitter } from '../core/events.js';
import { createDefaultLogger, type Logger } from '../core/logger.js';
import { type AlertDeliver, DeliveryLedger, handOver, loggerChannel } from './delivery.js';
import type { AlertHistoryReader } from './history-reader.js';
import { MemoryAlertStore } from './memory-store.js';
import { Notifier } from './notifier.js';
import { openStore } from './open-store.js';
import type { AlertsOptions, ResolvedAlertsOptions } from './options.js';
import { SourceReads } from './reads.js';
import { RecentList } from './recent-list.js';
import type { RuleRuntime } from './series.js';
import { SilenceIndex } from './silence.js';
import { StoreGuard } from './store-guard.js';
import type {
  AlertChannel,
  AlertNotification,
  AlertsEvents,
  AlertTransition,
  ValueSource,
} from './types.js';
import { AlertViews } from './views.js';

type Ack = { by: string; at: string; comment?: string };

/** @internal The engine's state, shared by the class, its tick and its operator actions. */
export interface TickState {
  readonly clock: Clock;
  readonly log: Logger;
  readonly guard: StoreGuard;
  readonly ledger: DeliveryLedger;
  readonly emitter: Emitter<AlertsEvents>;
  readonly options: ResolvedAlertsOptions;
  readonly rules: Map<string, RuleRuntime>;
  readonly sources: Map<string, ValueSource>;
  readonly channels: Map<string, AlertChannel>;
  readonly silences: SilenceIndex;
  acks: Map<string, Ack>;
  /** The public view of every alert, refreshed at each tick and built when read. */
  readonly views: AlertViews;
  /** Local history, newest first: what `history()` answers while the store is down. */
  readonly history: RecentList<AlertTransition>;
  /** Drop a transition another instance recorded already (a shared store). */
  readonly dedupeHistory: boolean;
  readonly notifier: Notifier;
  /** The reads of each evaluation, kept from one to the next. */
  readonly reads: SourceReads;
  readonly inflight: Set<Promise<void>>;
  evaluations: number;
  lastEvaluationMs: number | undefined;
  closed?: boolean;
  /** Past readings the learning detectors are seeded with (see `seedRules`). */
  readonly historyReader: AlertHistoryReader | undefined;
  /** The history failed once already: it is not logged again. */
  historyWarned: boolean;
  /** The channel notifications go to when none is configured. */
  readonly defaultChannel: AlertChannel;
  /** Whether `close()` closes the store (one this module opened). */
  readonly ownsStore: boolean;
}

/**
 * @internal Builds the engine's state from checked options: the clock, the logger, the store
 * behind its guard, the delivery ledger and the notifier wired to the deliver hook.
 */
export function createState(
  options: AlertsOptions,
  resolved: ResolvedAlertsOptions,
  emitter: Emitter<AlertsEvents>,
  send: (channel: string, notification: AlertNotification) => Promise<void>,
): TickState {
  const clock: Clock = options.clock ?? systemClock;
  const log = (options.logger ?? createDefaultLogger('info')).child({ module: 'alerts' });
  const { store, owned } = openStore(resolved, clock, log);
  const ledger = new DeliveryLedger(() => clock.epochNow());
  const deliver: AlertDeliver = options.deliver ?? send;
  const guard = new StoreGuard(store, resolved.commandTimeoutMs, log);
  const inflight = new Set<Promise<void>>();
  const sources = new Map<string, ValueSource>();
  const state: TickState = {
    clock,
    log,
    guard,
    ledger,
    emitter,
    options: resolved,
    rules: new Map<string, RuleRuntime>(),
    sources,
    reads: new SourceReads(sources, resolved.sourceTimeoutMs, clock),
    channels: new Map(resolved.channels.map((c) => [c.name, c])),
    silences: new SilenceIndex(),
    acks: new Map(),
    views: new AlertViews(),
    history: new RecentList<AlertTransition>(resolved.historyLimit),
    dedupeHistory: !(store instanceof MemoryAlertStore),
    evaluations: 0,
    lastEvaluationMs: undefined,
    inflight,
    historyReader: resolved.history,
    historyWarned: false,
    defaultChannel: options.defaultChannel ?? loggerChannel(log),
    ownsStore: owned,
    notifier: new Notifier({
      guard,
      policies: resolved.policies,
      allChannels: () => allChannels(state),
      dispatch: (channel, n) => handOver(deliver, channel, n, ledger, log, inflight),
      deduplicated: (channel, kind) => ledger.count(channel, kind, 'deduplicated'),
      episodeTtlMs: () => episodeTtlMs(state),
    }),
  };
  return state;
}

/** @internal The channels the default policy notifies: every channel, or the default one. */
export function allChannels(state: TickState): string[] {
  return state.channels.size > 0 ? [...state.channels.keys()] : [state.defaultChannel.name];
}

/** @internal Milliseconds until the next rule is due (at most the evaluation interval). */
export function nextTickIn(state: TickState): number {
  const now = state.clock.now();
  let next = state.options.evaluationIntervalMs;
  for (const runtime of state.rules.values()) next = Math.min(next, runtime.nextDueAt - now);
  return Math.max(10, next);
}

/**
 * @internal Waits for deliveries in flight (at most the delivery timeout), then closes the
 * channels and the store this module opened. Failures are logged, never thrown.
 */
export async function closeState(state: TickState): Promise<void> {
  const { inflight, channels, log, guard, options } = state;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled([...inflight]),
    new Promise((resolve) => (timer = setTimeout(resolve, options.deliveryTimeoutMs)).unref()),
  ]);
  clearTimeout(timer);
  for (const channel of new Set([...channels.values(), state.defaultChannel])) {
    try {
      await channel.close?.();
    } catch (error) {
      log.warn(
        { channel: channel.name, err: (error as Error)?.message },
        'alert channel close failed',
      );
    }
  }
  if (state.ownsStore) await guard.store.close?.().catch(() => undefined);
}

/** Episodes outlive a few evaluations without a touch, so only a stopped deployment loses them. */
function episodeTtlMs(state: TickState): number {
  let longest = state.options.evaluationIntervalMs;
  for (const runtime of state.rules.values()) longest = Math.max(longest, runtime.rule.intervalMs);
  return Math.max(3 * longest, 300_000);
}

import { describeValue, InvalidArgumentError } from '../core/errors.js';
import { Emitter } from '../core/events.js';
import { rejectAfter } from '../core/timeout.js';
import type { MetricFamily } from '../performance/prometheus.js';
import { acknowledgeAlert, addSilence, expireSilence, listSilences } from './actions.js';
import { Advisor } from './advisor.js';
import { type AlertFilter, filterAlerts, listedState } from './alert-view.js';
import { type AlertChannelStatus, sendNow } from './delivery.js';
import { AlertChannelError, AlertRuleError } from './errors.js';
import { seedRules } from './history-replay.js';
import { alertsMetricFamilies } from './metrics.js';
import { type AlertsOptions, checkChannel, resolveAlertsOptions } from './options.js';
import type { Recommendation } from './recommendation-types.js';
import { compileRule } from './rule.js';
import { type AlertRuleSummary, ruleSummary } from './rule-summary.js';
import type { RuleRuntime } from './series.js';
import type { SilenceInput, SilenceStatus } from './silence.js';
import { allChannels, closeState, createState, nextTickIn, type TickState } from './state.js';
import { runTick } from './tick.js';
import type {
  Alert,
  AlertChannel,
  AlertNotification,
  AlertRuleDefinition,
  AlertsEvents,
  AlertTransition,
  ChannelDocument,
  Silence,
  ValueSource,
} from './types.js';

/** What `alerts.rule()` returns. */
export interface AlertRuleHandle {
  readonly name: string;
  /** Removes the rule (as `alerts.removeRule(name)`); false if it was already gone. */
  remove(): boolean;
}

/**
 * The alerts engine: rules evaluated on a schedule against value sources, alerts moving through
 * their lifecycle, grouped, silenced, inhibited, escalated and handed to channels, with the state
 * several instances share in Redis. Modelled on Prometheus alerting rules and Alertmanager.
 *
 * @example
 * ```ts
 * const alerts = new Alerts({ channels: [slack], route: { groupWait: '10s' } });
 * alerts.rule({ name: 'CheckoutSlow', watch: () => p95('POST /checkout'), condition: { above: 800 }, for: '2m' });
 * alerts.on('firing', (alert) => console.warn(alert.annotations.summary));
 * alerts.start();
 * ```
 */
export class Alerts extends Emitter<AlertsEvents> {
  readonly #state: TickState;
  #queue: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  /** Bumped by each start(): a tick that ends after a stop() and start() must not chain on. */
  #generation = 0;
  #closed = false;
  /** The history replays under way (see {@link Alerts.seeded}). */
  readonly #seeding = new Set<Promise<void>>();
  readonly #advisor: Advisor | undefined;

  constructor(options: AlertsOptions = {}) {
    super();
    this.#state = createState(options, resolveAlertsOptions(options), this, (channel, n) =>
      this.send(channel, n),
    );
    this.#advisor =
      options.recommendationInputs === undefined
        ? undefined
        : new Advisor(options.recommendationInputs, this.#state.log, options.recommend);
    for (const source of options.sources ?? []) this.source(source);
    for (const definition of options.rules ?? []) this.rule(definition);
  }

  protected override onListenerError(error: unknown, event: keyof AlertsEvents): void {
    this.#state.log.error(
      { err: (error as Error)?.message ?? String(error), event },
      'alerts: a listener threw',
    );
  }

  /**
   * Adds a rule, evaluated from the next tick on. An invalid definition or a name in use is an
   * {@link AlertRuleError} naming the field. On a started engine with a `history`, an anomaly,
   * trend or forecast rule is seeded from it first.
   */
  rule(definition: AlertRuleDefinition): AlertRuleHandle {
    const rule = compileRule(definition, {
      defaultIntervalMs: this.#state.options.evaluationIntervalMs,
      sources: new Set(this.#state.sources.keys()),
    });
    if (this.#state.rules.has(rule.name)) {
      throw new AlertRuleError(`rule "${rule.name}" exists already`, {
        rule: rule.name,
        field: 'name',
        value: rule.name,
      });
    }
    const runtime: RuleRuntime = {
      rule,
      series: new Map(),
      lastRead: [],
      nextDueAt: Number.NEGATIVE_INFINITY,
    };
    this.#state.rules.set(rule.name, runtime);
    if (this.#running) this.#seed([runtime]);
    return {
      name: rule.name,
      remove: () => this.#state.rules.get(rule.name) === runtime && this.removeRule(rule.name),
    };
  }

  /** Removes a rule: its alerts leave the list, and channels told they fired are told they resolved. */
  removeRule(name: string): boolean {
    const runtime = this.#state.rules.get(name);
    if (runtime === undefined) return false;
    this.#state.rules.delete(name);
    for (const fingerprint of runtime.series.keys()) this.#state.views.delete(fingerprint);
    return true;
  }

  /** Registers a value source that rules `watch` by name; returns its removal. */
  source(source: ValueSource): () => void {
    const { sources } = this.#state;
    if (
      typeof source?.read !== 'function' ||
      typeof source.name !== 'string' ||
      source.name === ''
    ) {
      throw new InvalidArgumentError(
        `source=${describeValue(source)} is invalid: expected { name, read() }`,
        {
          argument: 'source',
          value: source,
          expected: '{ name: string, read(): SeriesValue[] }',
        },
      );
    }
    if (sources.has(source.name)) {
      throw new InvalidArgumentError(`a value source named "${source.name}" exists already`, {
        argument: 'source.name',
        value: source.name,
        expected: 'a name no other source has',
      });
    }
    sources.set(source.name, source);
    return () => {
      if (sources.get(source.name) === source) sources.delete(source.name);
    };
  }

  /** Adds a channel, which the default policy notifies. A name in use is an {@link AlertChannelError}. */
  channel(channel: AlertChannel): () => void {
    const { channels } = this.#state;
    checkChannel(channel, new Set(channels.keys()), 'channel');
    channels.set(channel.name, channel);
    return () => {
      if (channels.get(channel.name) === channel) channels.delete(channel.name);
    };
  }

  /**
   * One tick over the rules that are due: each source read once, every alert advanced,
   * transitions recorded, due notifications handed over (never awaited). Never rejects; ticks
   * never overlap (a call during a tick runs after it).
   */
  evaluate(): Promise<void> {
    void this.#advisor?.sample(this.#state.clock.now());
    const run = this.#queue.then(() => runTick(this.#state));
    this.#queue = run;
    return run;
  }

  /**
   * Concrete advice derived from what the modules measure, each with its evidence: a query that
   * dominates database time, a namespace with a low hit ratio and a slow loader, a queue whose
   * oldest task keeps ageing, an operation that blocks the event loop, a lasting bottleneck.
   * Empty without `recommendationInputs` (an instance's alerts always have them).
   *
   * @example
   * ```ts
   * for (const advice of await enterprise.alerts.recommendations()) console.log(advice.title, advice.evidence);
   * ```
   */
  recommendations(): Promise<Recommendation[]> {
    return this.#advisor?.sample(this.#state.clock.now()) ?? Promise.resolve([]);
  }

  /**
   * Evaluates on an unref'd timer from now on, each rule at its own interval. With a `history`,
   * the anomaly, trend and forecast rules are first seeded from it, in the background: their
   * series keep the live readings meanwhile and judge once the replay is over (see
   * {@link Alerts.seeded}).
   */
  start(): void {
    if (this.#running || this.#closed) return;
    this.#running = true;
    this.#seed(this.#state.rules.values());
    this.#schedule(0, ++this.#generation);
  }

  /**
   * Resolves when the history replays under way are over: the rules are seeded, or were given
   * up on (the history failed or passed `historyTimeout`). Never rejects.
   *
   * @example
   * ```ts
   * alerts.start();
   * await alerts.seeded(); // anomaly rules now judge against the baseline learned from history
   * ```
   */
  async seeded(): Promise<void> {
    while (this.#seeding.size > 0) await Promise.all([...this.#seeding]);
  }

  /** Stops the timer; a tick under way finishes. */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The alerts (every state but `inactive` unless `filter.state` says otherwise), most severe first. */
  list(filter: AlertFilter = {}): Alert[] {
    // Views of the alerts the filter leaves out by state are not built.
    return filterAlerts(this.#state.views.values(listedState(filter)), filter);
  }

  /** One alert by fingerprint, whatever its state. */
  get(fingerprint: string): Alert | undefined {
    return this.#state.views.get(fingerprint);
  }

  /**
   * Acknowledges an alert for the whole deployment: its escalation stops (no further step, no
   * repeat) until it resolves, and the channels it was sent to are told. Emits `acknowledged`. A
   * fingerprint no pending or firing alert has is an {@link AlertSilenceError} (`field: 'fingerprint'`).
   */
  acknowledge(fingerprint: string, by: { by: string; comment?: string }): Promise<Alert> {
    return acknowledgeAlert(this.#state, fingerprint, by);
  }

  /**
   * Mutes the alerts whose labels match every matcher, from `startsAt` (now) to `endsAt` (or for
   * `duration`), on every instance. Invalid input is an {@link AlertSilenceError} naming the field.
   */
  silence(input: SilenceInput): Promise<Silence> {
    return addSilence(this.#state, input);
  }

  /** Ends a silence now (one not started yet is deleted); false if unknown or already over. */
  expireSilence(id: string): Promise<boolean> {
    return expireSilence(this.#state, id);
  }

  /** Every silence of the deployment with its status; expired ones are kept five days. */
  silences(): Promise<(Silence & { status: SilenceStatus })[]> {
    return listSilences(this.#state);
  }

  /** The latest transitions of the deployment, newest first (this instance's while the store is down). */
  async history(limit = 100): Promise<AlertTransition[]> {
    const { guard } = this.#state;
    const local = this.#state.history.newest(limit);
    return [...(await guard.call('history', () => guard.store.history(limit), local))];
  }

  /** The rules: definitions, alerts per state, last evaluation, delivery failures. */
  rules(): AlertRuleSummary[] {
    const { rules, sources, ledger } = this.#state;
    return [...rules.values()].map((runtime) => ruleSummary(runtime, sources, ledger));
  }

  /** How each channel has done: notifications sent and failed, the last error. */
  channels(): AlertChannelStatus[] {
    const { ledger } = this.#state;
    const names = new Set([...allChannels(this.#state), ...ledger.channels.keys()]);
    return [...names].map((name) => ({ ...ledger.status(name) }));
  }

  /**
   * Sends one notification on one channel now, within the delivery timeout, and records the
   * outcome; rejects when the channel fails or is unknown. The default delivery calls it, and so
   * does a task handler delivering queued notifications.
   */
  send(channelName: string, notification: AlertNotification): Promise<void> {
    const { channels, options, ledger, log, defaultChannel } = this.#state;
    const channel =
      channels.get(channelName) ??
      (channelName === defaultChannel.name ? defaultChannel : undefined);
    return sendNow(channel, channelName, notification, options.deliveryTimeoutMs, ledger, log);
  }

  /**
   * Sends a document that is not an alert (a generated report) on one channel now, within the
   * delivery timeout. Rejects with an {@link AlertChannelError} when the channel is unknown,
   * cannot carry documents (email, webhook and Slack channels can), or fails.
   *
   * @example
   * ```ts
   * await alerts.sendDocument('ops-mail', { id: 'weekly:1', kind: 'report', subject: 'Weekly', text, html, json });
   * ```
   */
  async sendDocument(channelName: string, document: ChannelDocument): Promise<void> {
    const { channels, options, defaultChannel } = this.#state;
    const channel =
      channels.get(channelName) ??
      (channelName === defaultChannel.name ? defaultChannel : undefined);
    if (channel === undefined) {
      throw new AlertChannelError(`no channel named "${channelName}"`, { channel: channelName });
    }
    const send = channel.sendDocument;
    if (send === undefined) {
      throw new AlertChannelError(`channel "${channelName}" cannot carry documents`, {
        channel: channelName,
      });
    }
    const controller = new AbortController();
    await rejectAfter(
      Promise.resolve().then(() => send.call(channel, document, controller.signal)),
      options.deliveryTimeoutMs,
      `channel "${channelName}" did not answer within ${options.deliveryTimeoutMs} ms`,
      () => controller.abort(new Error('delivery timed out')),
    );
  }

  /** `enterprise_alerts`, `enterprise_alert_notifications_total` and the evaluation figures. */
  metricFamilies(): MetricFamily[] {
    const s = this.#state;
    return alertsMetricFamilies({
      rules: s.rules.values(),
      ledger: s.ledger,
      evaluations: s.evaluations,
      lastEvaluationMs: s.lastEvaluationMs,
      storeDown: s.guard.down,
    });
  }

  /**
   * Stops evaluating, waits for the tick under way and for deliveries in flight (at most the
   * delivery timeout), closes the channels and the store this module opened. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.stop();
    this.#state.closed = true;
    await this.#queue;
    await closeState(this.#state);
  }

  #seed(runtimes: Iterable<RuleRuntime>): void {
    const run = seedRules(this.#state, runtimes).catch((error: unknown) => {
      this.#state.log.error(
        { err: (error as Error)?.message ?? String(error) },
        'alerts: seeding from the metrics history failed',
      );
    });
    this.#seeding.add(run);
    void run.finally(() => this.#seeding.delete(run));
  }

  #schedule(delayMs: number, generation: number): void {
    if (!this.#running || generation !== this.#generation) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.evaluate().then(() => this.#schedule(nextTickIn(this.#state), generation));
    }, delayMs);
    this.#timer.unref();
  }
}

// The alerts module's extension points and the shapes it hands out. Rules watch values, detectors
// judge them, the lifecycle turns verdicts into alert states, and channels deliver notifications.
import type { Duration } from '../core/duration.js';

/** How urgent an alert is; escalation policies and the dashboard sort by it. */
export type AlertSeverity = 'info' | 'warning' | 'critical';

/**
 * Where an alert is in its lifecycle. `pending`: the condition holds but not yet for the rule's
 * `for` duration. `nodata`: the source returned nothing for the series. `error`: reading the value
 * or evaluating the condition threw (the error is on the alert).
 */
export type AlertState = 'inactive' | 'pending' | 'firing' | 'resolved' | 'nodata' | 'error';

/** Label names and values that identify a series (and so an alert) within a rule. */
export type AlertLabels = Readonly<Record<string, string>>;

/**
 * One series read from a value source at one evaluation: its labels and its value (`null` when the
 * series exists but has nothing to report, which is `nodata`).
 *
 * @example
 * ```ts
 * const p95: SeriesValue = { labels: { operation: 'GET /users' }, value: 182.5 };
 * ```
 */
export interface SeriesValue {
  labels: AlertLabels;
  value: number | null;
}

/**
 * A named producer of series, read at each evaluation of the rules that watch it. The package
 * wires sources for performance, system, cache, tasks and health; a user adds their own with
 * `alerts.source()`, or gives a rule a plain `() => number` instead.
 *
 * @example
 * ```ts
 * const queueLag: ValueSource = {
 *   name: 'kafka.lag',
 *   read: async () => (await admin.lags()).map((l) => ({ labels: { topic: l.topic }, value: l.lag })),
 * };
 * ```
 */
export interface ValueSource {
  /** Dotted name rules refer to, such as `operation.p95` or `tasks.queue_depth`. */
  readonly name: string;
  /** One-line description shown by `GET /alerts/rules` and the dashboard. */
  readonly description?: string;
  read(): readonly SeriesValue[] | Promise<readonly SeriesValue[]>;
}

/**
 * What a rule's value is compared with. Exactly one key is set.
 *
 * @example
 * ```ts
 * const slow: AlertCondition = { above: 500 };
 * const drop: AlertCondition = { anomaly: { direction: 'down', sensitivity: 4 } };
 * const full: AlertCondition = { forecast: { threshold: 1.5e9, within: '40m' } };
 * ```
 */
export type AlertCondition =
  | { above: number }
  | { below: number }
  | { anomaly: AnomalyOptions }
  | { trend: TrendOptions }
  | { forecast: ForecastOptions };

/** The value leaves its learned baseline (robust: EWMA of the level with a MAD-like spread). */
export interface AnomalyOptions {
  /** How many spreads away from the baseline counts as anomalous; higher fires less. Default 4. */
  sensitivity?: number;
  /** Samples learned before the detector may fire. Default 30. */
  minSamples?: number;
  /** Which departures count: rises, drops, or both (the default). */
  direction?: 'up' | 'down' | 'both';
  /** Learn one baseline per hour of the week once a week of history exists. Default true. */
  seasonal?: boolean;
  /**
   * With `direction: 'up'`, a value at or below the floor is never anomalous (with `'down'`, a
   * value at or above it; ignored with `'both'`): an error rate that jumps from 0.1 % to 0.4 % is far from its baseline
   * but not worth a page. Learning goes on below the floor. Default: none.
   */
  floor?: number;
}

/** The value's robust slope (Theil–Sen) over a window, per minute, passes a bound. */
export interface TrendOptions {
  /** The window the slope is estimated over. Default `'30m'`. */
  window?: Duration;
  /** Fires when the slope, in units per minute, is above this. */
  slopeAbove?: number;
  /** Fires when the slope, in units per minute, is below this. */
  slopeBelow?: number;
}

/** The value is predicted to cross `threshold` within `within` (like Prometheus `predict_linear`). */
export interface ForecastOptions {
  threshold: number;
  /** How far ahead to look. */
  within: Duration;
  /** The history the prediction is fitted on. Default `'30m'`. */
  window?: Duration;
  /** Crossing upwards (the default) or downwards. */
  direction?: 'up' | 'down';
}

/**
 * What a detector concluded about one series at one evaluation. `breached` decides the state;
 * the other fields are evidence shown with the alert.
 */
export interface DetectorVerdict {
  breached: boolean;
  /** The value judged (the latest sample). */
  value: number;
  /** The baseline, fitted value or threshold compared with, when the detector has one. */
  expected?: number;
  /** Anomaly score in spreads, slope per minute, or milliseconds until the predicted crossing. */
  score?: number;
  /** Why, in a few words: `"3.2 spreads above baseline 120"`, `"reaches 1.5e9 in 38m"`. */
  reason?: string;
}

/**
 * The state a condition keeps for one series. One instance per (rule, labels) pair, so it must be
 * small: the alerts module keeps thousands of them.
 *
 * Judging is split from the evidence: the engine calls {@link Detector.judge} for every series at
 * every tick, which allocates nothing, and {@link Detector.verdict} only for the alerts someone
 * looks at (a view, an event, a notification). {@link Detector.evaluate} does both at once.
 *
 * @example
 * ```ts
 * const detector = createDetector({ anomaly: {} });
 * detector.observe(now, 120);
 * const verdict = detector.evaluate(now); // undefined while still learning
 *
 * detector.observe(later, 480);
 * if (detector.judge(later)) console.warn(detector.verdict()!.reason);
 * ```
 */
export interface Detector {
  /** Adds a sample; `at` is epoch milliseconds, increasing. */
  observe(at: number, value: number): void;
  /**
   * The verdict on the latest sample, or `undefined` while there is not enough history: `judge(at)`
   * then `verdict()`. Builds a new object each call.
   */
  evaluate(at: number): DetectorVerdict | undefined;
  /**
   * Judges the latest sample at `at`, allocating nothing: `true` when the condition is breached,
   * `false` when not, `undefined` while there is not enough history (where `evaluate` returns
   * `undefined`). The evidence stays available from {@link Detector.verdict}.
   */
  judge(at: number): boolean | undefined;
  /**
   * The evidence of the latest `judge` (or `evaluate`), as a new object equal to what `evaluate`
   * returned or would have returned then, whatever was observed since; `undefined` when that
   * judgement had no verdict, or before the first.
   */
  verdict(): DetectorVerdict | undefined;
}

/**
 * One alert: a rule and a label set, with its state and evidence. Returned by `alerts.list()`, `GET
 * /alerts` and carried by notifications.
 */
export interface Alert {
  /** Stable across processes and restarts: a hash of the rule name and the labels. */
  fingerprint: string;
  rule: string;
  state: AlertState;
  severity: AlertSeverity;
  /** The rule's labels merged with the series' labels, plus `alertname`. */
  labels: AlertLabels;
  /** The rendered summary and any other annotations of the rule. */
  annotations: Readonly<Record<string, string>>;
  /** The latest value read (`null` for no data or an error). */
  value: number | null;
  /** The detector's latest evidence, when it had any. */
  verdict?: DetectorVerdict;
  /** When the condition first held in this episode (pending since), ISO 8601. */
  activeAt?: string;
  /** When the alert started firing in this episode. */
  firingAt?: string;
  resolvedAt?: string;
  lastEvaluatedAt: string;
  /** The message of the error, in state `error`. */
  error?: string;
  acknowledged?: { by: string; at: string; comment?: string };
  /** Ids of the silences that mute this alert. */
  silencedBy?: readonly string[];
  /** Fingerprints of the firing alerts that inhibit this one. */
  inhibitedBy?: readonly string[];
  /** The outcome of the latest notification carrying this alert, per channel name. */
  deliveries?: Readonly<Record<string, AlertDelivery>>;
}

/** How the latest notification of an alert went on one channel. */
export interface AlertDelivery {
  /** The notification's id. */
  notification: string;
  kind: NotificationKind;
  /** `pending` until the channel answers (or the delivery is handed to a task queue). */
  outcome: 'pending' | 'success' | 'failure';
  /** When the notification was handed over, ISO 8601. */
  at: string;
  /** The error message of a failure. */
  error?: string;
}

/** Why a notification is sent. */
export type NotificationKind = 'firing' | 'repeat' | 'resolved' | 'acknowledged';

/**
 * What a channel delivers: one group of alerts at one escalation step. `id` is unique per
 * notification and stays the same across delivery retries, so a receiver can drop duplicates.
 */
export interface AlertNotification {
  id: string;
  kind: NotificationKind;
  /** The group key (the values of the policy's `groupBy` labels). */
  group: string;
  /** The escalation step being notified (0 for the first). */
  step: number;
  alerts: readonly Alert[];
  /** When the notification was created, ISO 8601. */
  createdAt: string;
  /** A one-line text: `"[FIRING:2] HighLatency (GET /users, GET /orders)"`. */
  title: string;
}

/**
 * A destination for notifications: webhook, Slack, email, the logger, a function. `send` throws to
 * have the delivery retried; the task module retries it with backoff, then dead-letters it.
 *
 * @example
 * ```ts
 * const pager: AlertChannel = {
 *   name: 'pager',
 *   send: async (notification) => { await pagerClient.trigger(notification.title); },
 * };
 * ```
 */
export interface AlertChannel {
  /** Unique among the channels of one instance; escalation steps and routes name channels by it. */
  readonly name: string;
  send(notification: AlertNotification, signal?: AbortSignal): Promise<void>;
  /**
   * Sends a document that is not an alert (a report), in the form that suits the channel: email
   * sends its `html` (and `text`), a webhook POSTs its `json`. Channels without it cannot carry
   * documents.
   */
  sendDocument?(document: ChannelDocument, signal?: AbortSignal): Promise<void>;
  /** Releases connections (an SMTP pool...). Called by shutdown. */
  close?(): Promise<void>;
}

/**
 * A document sent on a channel besides its notifications, such as a generated report: every form a
 * channel may need, and an id receivers drop duplicates by.
 *
 * @example
 * ```ts
 * await enterprise.alerts.sendDocument('ops-mail', { id: 'weekly:1735689600000', kind: 'report', subject: 'Weekly', text, html, json });
 * ```
 */
export interface ChannelDocument {
  id: string;
  /** What the document is (`'report'`); a webhook sends it as `kind`. */
  kind: string;
  subject: string;
  text: string;
  html: string;
  json: unknown;
}

/**
 * A silence: alerts whose labels match every matcher are muted (still listed, never notified)
 * between `startsAt` and `endsAt`.
 */
export interface Silence {
  id: string;
  matchers: readonly LabelMatcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
}

/** Matches one label: equal, not equal, or a regular expression (anchored), as in Alertmanager. */
export interface LabelMatcher {
  name: string;
  value: string;
  /** `=` (the default), `!=`, `=~`, `!~`. */
  op?: '=' | '!=' | '=~' | '!~';
}

/**
 * Where alert state shared by the instances of a deployment lives: silences, acknowledgements,
 * notification claims (one notification per step for the whole deployment), episode starts and
 * recent history. Memory for one process, Redis for many. The engine bounds every call with a
 * timeout and carries on with what it knows locally when the store fails.
 *
 * @example
 * ```ts
 * const alerts = new Alerts({ store: new RedisAlertStore({ url: process.env.REDIS_URL, prefix: 'shop:alerts' }) });
 * ```
 */
export interface AlertStore {
  /**
   * Claims the right to send notification `key`; true for exactly one caller in the deployment
   * until `ttlMs` has passed.
   */
  claim(key: string, ttlMs: number): Promise<boolean>;
  /**
   * The shared start of episode `key` (an alert's or a group's firing episode): the first caller's
   * `at` wins and every instance gets it back, so escalation steps are timed from one moment
   * everywhere and notification claims are named alike. With `ttlMs` the episode is forgotten
   * that long after its last {@link episode} or {@link touchEpisodes} call, so one left behind by a
   * crashed deployment does not date a later episode.
   */
  episode(key: string, at: number, ttlMs?: number): Promise<number>;
  /** Keeps the episodes `keys` (still firing) for another `ttlMs`. */
  touchEpisodes(keys: readonly string[], ttlMs: number): Promise<void>;
  /** Ends episode `key` (resolved), so the next firing starts a new one. */
  endEpisode(key: string): Promise<void>;
  acknowledge(
    fingerprint: string,
    ack: { by: string; at: string; comment?: string },
  ): Promise<void>;
  acknowledgements(): Promise<ReadonlyMap<string, { by: string; at: string; comment?: string }>>;
  clearAcknowledgement(fingerprint: string): Promise<void>;
  /** Adds or replaces (same `id`) a silence. */
  putSilence(silence: Silence): Promise<void>;
  deleteSilence(id: string): Promise<boolean>;
  silences(): Promise<readonly Silence[]>;
  /**
   * Appends a state transition; the store keeps the latest `limit`. With `dedupeMs`, a transition
   * of the same alert between the same states recorded within `dedupeMs` (by another instance
   * evaluating the same rule) is dropped: history holds each change once per deployment.
   */
  record(transition: AlertTransition, limit: number, dedupeMs?: number): Promise<void>;
  /** The latest `limit` transitions, newest first. */
  history(limit: number): Promise<readonly AlertTransition[]>;
  close?(): Promise<void>;
}

/** One state change of one alert, as kept in history and sent on the real-time stream. */
export interface AlertTransition {
  fingerprint: string;
  rule: string;
  from: AlertState;
  to: AlertState;
  at: string;
  severity: AlertSeverity;
  labels: AlertLabels;
  value: number | null;
}

/**
 * A rule: what to watch, the condition, and how the alerts it produces behave. Given to
 * `alerts.rule()` or in `createEnterprise({ alerts: { rules } })`.
 *
 * @example
 * ```ts
 * alerts.rule({
 *   name: 'CheckoutSlow',
 *   watch: 'operation.p95',
 *   where: { operation: 'POST /checkout' },
 *   condition: { above: 800 },
 *   for: '2m',
 *   severity: 'critical',
 *   summary: '{{labels.operation}} p95 is {{value}} ms',
 * });
 * ```
 */
export interface AlertRuleDefinition {
  /** Unique per instance; becomes the `alertname` label. */
  name: string;
  /** A value source's name, or a function read at each evaluation (one series, no labels). */
  watch: string | (() => number | Promise<number>);
  /** Keeps only the source's series whose labels equal these (exact match on each key). */
  where?: Readonly<Record<string, string>>;
  condition: AlertCondition;
  /** How long the condition must hold before the alert fires (pending period). Default 0. */
  for?: Duration;
  /** How long a firing alert keeps firing after the condition stopped holding. Default 0. */
  keepFiringFor?: Duration;
  /** Default `warning`. */
  severity?: AlertSeverity;
  /** Added to every alert of the rule; routing, grouping, silences and inhibition match on them. */
  labels?: Readonly<Record<string, string>>;
  /** A template: `{{value}}`, `{{labels.<name>}}`, `{{rule}}`, `{{severity}}`, `{{reason}}`. */
  summary?: string;
  /** Further annotations (runbook URL...), templated like `summary`. */
  annotations?: Readonly<Record<string, string>>;
  /** How often this rule is evaluated. Default: the module's `evaluationInterval` (15 s). */
  interval?: Duration;
  /** What no data means: its own `nodata` state (the default), `ok` (inactive), or `alerting` (fires). */
  noData?: 'nodata' | 'ok' | 'alerting';
}

/**
 * The events of the alerts engine (`alerts.on(...)`). Listeners that throw are logged and never
 * reach evaluation.
 *
 * @example
 * ```ts
 * alerts.on('firing', (alert) => console.warn(alert.annotations.summary));
 * alerts.on('transition', (t) => sse.send({ event: 'alert', data: t }));
 * ```
 */
export interface AlertsEvents {
  /** An alert started firing (a new firing episode). */
  firing: [alert: Alert];
  resolved: [alert: Alert];
  acknowledged: [alert: Alert];
  /** Any state change of any alert, as recorded in history, with the alert as it is now. */
  transition: [transition: AlertTransition, alert: Alert];
}

// The security module on the real-time stream: a summary in each snapshot, and its events (threats,
// limit changes, bans, score crossings) as `event: security`, at a bounded rate: an attack makes
// thousands of threats a second, the stream carries a few and counts the rest.
import type { LimitChange } from '../security/dynamic-limits.js';
import type { SecurityScoreEvent } from '../security/score.js';
import type { Security } from '../security/security.js';
import type { Ban, ThreatCategory, ThreatEvent } from '../security/types.js';
import type { MonitoredInstance } from './monitored-instance.js';
import type { RealtimeFeed } from './realtime-feed.js';

/**
 * The security part of a real-time snapshot.
 *
 * @example
 * ```ts
 * if (snapshot.security?.enabled && snapshot.security.score !== null) gauge.set(snapshot.security.score);
 * ```
 */
export interface SecuritySnapshot {
  /** Whether the instance has built its security module; `false` with every figure empty until then. */
  enabled: boolean;
  /** The score last evaluated (the module evaluates it every 15 s by default); null before the first. */
  score: number | null;
  /** Over the score window: threats detected, requests refused over a limit, requests blocked. */
  threats: number;
  rateLimited: number;
  blocked: number;
  /** Bans in force. */
  activeBans: number;
  /** Whether a store is failing now: a rate limit decided by its insurance limiter, or the ban store. */
  storeDown: boolean;
}

/** What an `event: security` reports. */
export type SecurityStreamEventKind = 'threat' | 'limits' | 'ban' | 'unban' | 'score' | 'dropped';

/**
 * The data of an `event: security` of the real-time stream. At most
 * {@link SECURITY_EVENTS_PER_SECOND} events a second are sent; the others of that second are counted
 * in one `dropped` event sent when it ends (score crossings are always sent).
 *
 * @example
 * ```ts
 * // for each `event: security` of the stream:
 * const event = JSON.parse(data) as SecurityStreamEvent;
 * if (event.kind === 'threat') toast(`${event.threat.category} from ${event.threat.client}`);
 * if (event.kind === 'dropped') console.info(`${event.dropped} more security events`);
 * ```
 */
export type SecurityStreamEvent =
  | { kind: 'threat'; at: number; threat: ThreatEvent }
  | { kind: 'limits'; at: number; change: LimitChange }
  | { kind: 'ban'; at: number; ban: Ban }
  | { kind: 'unban'; at: number; client: string; reason: 'manual' | 'expired' }
  | { kind: 'score'; at: number; low: boolean; score: number; threshold: number }
  | {
      kind: 'dropped';
      at: number;
      /** Events of the last second not sent, in all. */
      dropped: number;
      /** The same, by kind. */
      byKind: Partial<Record<SecurityStreamEventKind, number>>;
      /** The threats among them, by category. */
      threats: Partial<Record<ThreatCategory, number>>;
    };

/** Events sent per second at most, besides the `dropped` summary and score crossings. */
export const SECURITY_EVENTS_PER_SECOND = 10;

/** @internal The security part of a snapshot (`enabled: false` while the module is not built). */
export function toSecuritySnapshot(security: Security | undefined): SecuritySnapshot {
  if (security === undefined) {
    return {
      enabled: false,
      score: null,
      threats: 0,
      rateLimited: 0,
      blocked: 0,
      activeBans: 0,
      storeDown: false,
    };
  }
  const totals = security.window.totals(security.scoreWindowMs);
  const down = security.storeDown();
  return {
    enabled: true,
    score: security.lastScore ?? null,
    threats: totals.threatCount,
    rateLimited: totals.rateLimited,
    blocked: totals.blocked,
    activeBans: security.bans().length,
    storeDown: down.bans || down.rateLimits.length > 0,
  };
}

type Listeners = {
  threat: (threat: ThreatEvent) => void;
  limits: (change: LimitChange) => void;
  ban: (ban: Ban) => void;
  unban: (event: { client: string; reason: 'manual' | 'expired' }) => void;
  'score-low': (event: SecurityScoreEvent) => void;
  'score-recovered': (event: SecurityScoreEvent) => void;
};

/**
 * @internal Listens to the instance's security module while streams are open and publishes its
 * events as `event: security`, {@link SECURITY_EVENTS_PER_SECOND} a second at most. Attached when
 * the first stream opens and at every tick (a module built later is picked up), detached when the
 * last stream closes.
 */
export class SecurityFeed implements RealtimeFeed {
  readonly #enterprise: MonitoredInstance;
  readonly #perSecond: number;
  readonly #now: () => number;
  #security: Security | undefined;
  #listeners: Listeners | undefined;
  #publish: ((event: string, data: unknown) => void) | undefined;
  #windowStart = 0;
  #sent = 0;
  #dropped: Extract<SecurityStreamEvent, { kind: 'dropped' }> | undefined;
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(
    enterprise: MonitoredInstance,
    options: { perSecond?: number; now?: () => number } = {},
  ) {
    this.#enterprise = enterprise;
    this.#perSecond = options.perSecond ?? SECURITY_EVENTS_PER_SECOND;
    this.#now = options.now ?? Date.now;
  }

  attach(publish: (event: string, data: unknown) => void): void {
    this.#publish = publish;
    const security = this.#enterprise.peek('security');
    if (security === this.#security) return;
    this.detach();
    this.#publish = publish;
    if (security === undefined) return;
    const score = (low: boolean) => (event: SecurityScoreEvent) =>
      this.#send({
        kind: 'score',
        at: this.#now(),
        low,
        score: event.score,
        threshold: event.threshold,
      });
    const listeners: Listeners = {
      threat: (threat) => this.#offer({ kind: 'threat', at: threat.at, threat }),
      limits: (change) => this.#offer({ kind: 'limits', at: change.at, change }),
      ban: (ban) => this.#offer({ kind: 'ban', at: ban.createdAt, ban }),
      unban: ({ client, reason }) =>
        this.#offer({ kind: 'unban', at: this.#now(), client, reason }),
      'score-low': score(true),
      'score-recovered': score(false),
    };
    for (const [event, listener] of Object.entries(listeners)) {
      security.on(event as keyof Listeners, listener as never);
    }
    this.#security = security;
    this.#listeners = listeners;
  }

  detach(): void {
    const security = this.#security;
    const listeners = this.#listeners;
    if (security !== undefined && listeners !== undefined) {
      for (const [event, listener] of Object.entries(listeners)) {
        security.off(event as keyof Listeners, listener as never);
      }
    }
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#dropped = undefined;
    this.#security = undefined;
    this.#listeners = undefined;
    this.#publish = undefined;
  }

  /** Sends an event within the second's budget, or counts it in the second's `dropped` summary. */
  #offer(event: Exclude<SecurityStreamEvent, { kind: 'dropped' | 'score' }>): void {
    const now = this.#now();
    if (now - this.#windowStart >= 1000) {
      this.#flush();
      this.#windowStart = now;
      this.#sent = 0;
    }
    if (this.#sent < this.#perSecond) {
      this.#sent++;
      this.#send(event);
      return;
    }
    let dropped = this.#dropped;
    if (dropped === undefined) {
      dropped = { kind: 'dropped', at: now, dropped: 0, byKind: {}, threats: {} };
      this.#dropped = dropped;
      // The summary goes out when the second ends, whether or not another event comes.
      this.#flushTimer = setTimeout(() => this.#flush(), 1000 - (now - this.#windowStart));
      this.#flushTimer.unref();
    }
    dropped.dropped++;
    dropped.byKind[event.kind] = (dropped.byKind[event.kind] ?? 0) + 1;
    if (event.kind === 'threat') {
      const { category } = event.threat;
      dropped.threats[category] = (dropped.threats[category] ?? 0) + 1;
    }
  }

  #flush(): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const dropped = this.#dropped;
    if (dropped === undefined) return;
    this.#dropped = undefined;
    this.#send({ ...dropped, at: this.#now() });
  }

  #send(event: SecurityStreamEvent): void {
    this.#publish?.('security', event);
  }
}

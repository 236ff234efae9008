import { type Clock, systemClock } from '../../core/clock.js';
import type { Duration } from '../../core/duration.js';
import { nonNegative, positiveDuration } from '../logins/checks.js';
import type { Ban, ThreatEvent } from '../types.js';
import { BanList, type BanListOptions } from './ban-list.js';
import { type ClientMatcher, toMatcher } from './client-matcher.js';
import { ClientRisk, type ClientRiskEntry } from './client-risk.js';
import type { ClientRiskOptions } from './risk-options.js';

/**
 * Options of {@link Clients}.
 *
 * @example
 * ```ts
 * const options: ClientsOptions = {
 *   allow: ['10.0.0.5'],
 *   deny: cidrMatcher(['192.0.2.0/24']),
 *   bans: { store: new RedisBanStore({ url: process.env.REDIS_URL }) },
 *   autoBan: { threshold: 80, duration: '1h' },
 * };
 * ```
 */
export interface ClientsOptions {
  /** Trusted clients: never refused for a ban, never banned automatically. Deny beats allow. */
  allow?: ClientMatcher | readonly string[];
  /** Clients always refused. */
  deny?: ClientMatcher | readonly string[];
  /** How risk is scored, decays and is bounded. */
  risk?: Omit<ClientRiskOptions, 'clock'>;
  /** Where bans are shared and how often they are read again. */
  bans?: Omit<BanListOptions, 'clock'>;
  /**
   * Ban a client whose risk reaches `threshold` for `duration`, at the signal that took it there.
   * Off unless given. @defaultValue `{ threshold: 80, duration: '1h' }` when given as `{}`
   */
  autoBan?: { threshold?: number; duration?: Duration } | false;
  /** The time source (tests). @defaultValue systemClock */
  clock?: Clock;
}

/**
 * Whether a client may go on, and why not.
 *
 * @example
 * ```ts
 * const decision = clients.decide(clientKey);
 * if (!decision.allowed) return reply(403, { reason: decision.reason });
 * ```
 */
export interface ClientDecision {
  allowed: boolean;
  /** Why it was refused: on the deny list, or banned. */
  reason?: 'denied' | 'banned';
  /** The ban in force, when banned. */
  ban?: Ban;
  /** On the allow list (bans do not apply). */
  allowListed?: boolean;
}

/**
 * Per-client risk, allow and deny lists and temporary bans, together: the signals of the other
 * security parts go in (`recordThreat`, `recordLoginFailure`, `recordRateLimited`,
 * `recordResponse`), and `decide(client)` says whether a request goes on. Deny beats allow, and
 * allow beats bans. With `autoBan`, a client whose risk reaches the threshold is banned.
 *
 * @example
 * ```ts
 * const clients = new Clients({ autoBan: { threshold: 80, duration: '1h' } });
 * await clients.start();
 * logins.on('threat', (threat) => clients.recordThreat(threat));
 * if (!clients.decide(ip).allowed) return reply(403);
 * clients.top(10); // the worst offenders
 * ```
 */
export class Clients {
  /** The risk scores. */
  readonly risk: ClientRisk;
  /** The bans: `clients.bans.on('ban', ...)`, `clients.bans.list()`. */
  readonly bans: BanList;
  readonly #allow: ClientMatcher | undefined;
  readonly #deny: ClientMatcher | undefined;
  readonly #autoBan: { threshold: number; durationMs: number } | undefined;

  constructor(options: ClientsOptions = {}) {
    const clock = options.clock ?? systemClock;
    this.#allow = toMatcher(options.allow, 'allow');
    this.#deny = toMatcher(options.deny, 'deny');
    const auto = options.autoBan === false ? undefined : options.autoBan;
    this.#autoBan = auto && {
      threshold: nonNegative(auto.threshold ?? 80, 'autoBan.threshold'),
      durationMs: positiveDuration(auto.duration ?? '1h', 'autoBan.duration'),
    };
    this.risk = new ClientRisk({ ...options.risk, clock });
    this.bans = new BanList({ ...options.bans, clock });
  }

  /** Starts following the ban store (see {@link BanList.start}). */
  start(): Promise<void> {
    return this.bans.start();
  }

  /** Stops following the ban store; a store you gave stays open. */
  close(): Promise<void> {
    return this.bans.close();
  }

  /** Whether `client` may go on: not denied, and allow-listed or not banned. From memory. */
  decide(client: string): ClientDecision {
    if (this.#deny?.has(client)) return { allowed: false, reason: 'denied' };
    if (this.#allow?.has(client)) return { allowed: true, allowListed: true };
    const ban = this.bans.get(client);
    return ban === undefined ? { allowed: true } : { allowed: false, reason: 'banned', ban };
  }

  /** Whether `client` is banned now (the lists aside), from the local cache. */
  isBanned(client: string): boolean {
    return this.bans.isBanned(client);
  }

  /** Bans `client` for `duration`; see {@link BanList.ban}. */
  ban(client: string, duration: Duration, reason: string): Promise<Ban> {
    return this.bans.ban(client, duration, reason, 'manual');
  }

  /** Lifts the ban of `client`; whether there was one. */
  unban(client: string): Promise<boolean> {
    return this.bans.unban(client);
  }

  /** Holds a threat against its client; returns the client's new risk. */
  recordThreat(event: ThreatEvent): number {
    const score = this.risk.recordThreat(event);
    if (score > 0) this.#maybeBan(event.client, score);
    return score;
  }

  /** Counts a failed login of `client`; returns its new risk. */
  recordLoginFailure(client: string, count = 1): number {
    return this.#maybeBan(client, this.risk.recordLoginFailure(client, count));
  }

  /** Counts a rate-limit refusal of `client`; returns its new risk. */
  recordRateLimited(client: string, count = 1): number {
    return this.#maybeBan(client, this.risk.recordRateLimited(client, count));
  }

  /** Counts a response to `client` (an HTTP status, or whether it was an error). */
  recordResponse(client: string, outcome: number | boolean): number {
    return this.#maybeBan(client, this.risk.recordResponse(client, outcome));
  }

  /** The `n` clients of highest risk. */
  top(n = 10): ClientRiskEntry[] {
    return this.risk.top(n);
  }

  #maybeBan(client: string, score: number): number {
    const auto = this.#autoBan;
    if (
      auto === undefined ||
      score < auto.threshold ||
      this.#allow?.has(client) ||
      this.#deny?.has(client) ||
      this.bans.isBanned(client)
    ) {
      return score;
    }
    const reason = `risk ${Math.round(score)} reached ${auto.threshold}`;
    this.bans
      .ban(client, `${auto.durationMs}ms`, reason, this.risk.dominantSource(client))
      .catch(() => undefined);
    return score;
  }
}

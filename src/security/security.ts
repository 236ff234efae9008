// The security module as one object: request screening, login analytics, client risk, bans and
// lists, rate limits with dynamic thresholds, and the score, wired together so that each signal
// reaches the others (a threat raises its client's risk, which tightens its limits and may ban it).
import { type Clock, systemClock } from '../core/clock.js';
import type { Duration } from '../core/duration.js';
import { parseDuration } from '../core/duration.js';
import { Emitter } from '../core/events.js';
import { createDefaultLogger, type Logger } from '../core/logger.js';
import { createClient, quitClient, type RedisClient } from '../redis/client.js';
import { bannedRanges, banTarget } from './client-key/ban-target.js';
import { cidrMatcher } from './client-key/cidr.js';
import { type ClientKeyResolver, createClientKey } from './client-key/client-key.js';
import { Clients } from './clients/clients.js';
import { MemoryBanStore } from './clients/memory-ban-store.js';
import { RedisBanStore } from './clients/redis-ban-store.js';
import { DynamicLimits } from './dynamic-limits.js';
import { LoginAnalytics } from './logins/login-analytics.js';
import type { LoginCheck } from './logins/policy.js';
import { type LoginRecorder, type WrapLoginOptions, wrapLogin } from './logins/wrap-login.js';
import { checkSecurityOptions, invalid, type SecurityOptions } from './options.js';
import { type SecurityReport, securityReport } from './report.js';
import { type HygieneCheck, RequestGate, type SecurityVerdict } from './request-gate.js';
import type { RoutePolicy } from './route-limits.js';
import {
  type SecurityScoreInputs,
  SecurityScoreMonitor,
  type SecurityScoreResult,
} from './score.js';
import { createScreener } from './screening/screener.js';
import type { Screener } from './screening/types.js';
import type { Ban, BanStore, LoginAttempt, ScreenedRequest, ThreatEvent } from './types.js';

export type { SecurityCounters, SecurityEvents } from './security-events.js';

import type { SecurityCounters, SecurityEvents } from './security-events.js';
import { SecurityWindow } from './window.js';

function cidrList<T>(list: T | readonly string[] | undefined, field: string) {
  return Array.isArray(list)
    ? cidrMatcher(list as readonly string[], field)
    : (list as T | undefined);
}

/**
 * The security module. Built by the instance (`enterprise.security`, with `createEnterprise({
 * security })`), or on its own. The framework adapters' middleware calls {@link Security.inspect}
 * for every request when given `security: true`.
 *
 * @example
 * ```ts
 * const security = new Security({ mode: 'block', redisUrl: process.env.REDIS_URL });
 * await security.start();
 * security.on('threat', (threat) => log.warn(threat, 'threat'));
 * security.recordLogin({ userId: 'ada', ip: '203.0.113.7', success: false, reason: 'bad-password' });
 * await security.ban('198.51.100.4', '1h', 'scraping');
 * security.score(); // { score: 97.5, components: [...] }
 * ```
 */
export class Security extends Emitter<SecurityEvents> implements LoginRecorder {
  readonly mode: 'detect' | 'block';
  /** The request screener (its rules and statistics). */
  readonly screener: Screener | undefined;
  /** Login analytics: figures of the window, lockouts. */
  readonly logins: LoginAnalytics;
  /** Client risk, bans, allow and deny lists. */
  readonly clients: Clients;
  /** The key of a request's client (trusted proxies, IPv6 prefixes). */
  readonly clientKey: ClientKeyResolver;
  /** Whether proxies are trusted (then `X-Forwarded-Proto` says whether a request came over HTTPS). */
  readonly trustsProxies: boolean;
  /** @internal */
  readonly window: SecurityWindow;
  /** @internal */
  readonly dynamic: DynamicLimits;
  /** @internal */
  readonly gate: RequestGate;
  /** @internal */
  readonly clock: Clock;
  /** @internal */
  readonly logger: Logger;
  readonly #options: SecurityOptions;
  readonly #monitor: SecurityScoreMonitor;
  readonly #scoreWindowMs: number;
  readonly #suspiciousRisk: number;
  readonly #intervalMs: number;
  readonly #redis: { client: RedisClient; owned: boolean } | undefined;
  readonly #hygiene: Partial<Record<HygieneCheck, boolean>> = {};
  readonly #ipv6Subnet: number;
  readonly #counters: SecurityCounters = {
    logins: 0,
    failedLogins: 0,
    bans: 0,
    threats: new Map(),
  };
  #builtBanStore: BanStore | undefined;
  #lastScoreAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;
  #state: 'created' | 'started' | 'closed' = 'created';

  constructor(options: SecurityOptions = {}) {
    super();
    const dynamic = checkSecurityOptions(options);
    this.#options = options;
    this.mode = options.mode ?? 'detect';
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? createDefaultLogger('warn').child({ module: 'security' });
    const now = () => this.clock.epochNow();
    this.clientKey = createClientKey(options.clientKey);
    this.#ipv6Subnet = options.clientKey?.ipv6Subnet ?? 64;
    const trust = options.clientKey?.trustProxy;
    this.trustsProxies = trust !== undefined && trust !== false;
    this.screener =
      options.screening === false
        ? undefined
        : createScreener({ ...options.screening, mode: this.mode, now });
    this.#scoreWindowMs = parseDuration(options.score?.window ?? '10m', 'score.window');
    if (!(this.#scoreWindowMs >= 60_000))
      throw invalid('score.window', options.score?.window, 'at least a minute');
    this.#suspiciousRisk = options.score?.suspiciousRisk ?? 50;
    this.#intervalMs = options.score?.intervalMs ?? 15_000;
    if (!(Number.isFinite(this.#intervalMs) && this.#intervalMs >= 100)) {
      throw invalid('score.intervalMs', this.#intervalMs, 'at least 100 ms');
    }
    this.#monitor = new SecurityScoreMonitor({
      threshold: options.score?.threshold,
      hysteresis: options.score?.hysteresis,
      weights: options.score?.weights,
    });
    this.#monitor.on('score-low', (event) => this.emit('score-low', event));
    this.#monitor.on('score-recovered', (event) => this.emit('score-recovered', event));
    this.window = new SecurityWindow(Math.max(60, this.#scoreWindowMs / 60_000) + 1, now);
    this.logins = new LoginAnalytics({ ...options.logins, clock: this.clock });
    this.logins.on('threat', (threat) => this.#threat(threat));
    this.logins.on('lockout', (event) => this.emit('lockout', event));
    this.#redis =
      options.redis !== undefined
        ? { client: options.redis, owned: false }
        : options.redisUrl !== undefined
          ? {
              client: createClient(
                options.redisUrl,
                options.rateLimit?.commandTimeoutMs ?? 500,
                (error) => this.logger.warn({ err: error }, 'security: Redis connection error'),
              ),
              owned: true,
            }
          : undefined;
    this.clients = new Clients({
      ...options.clients,
      // Lists given as strings are CIDR-aware here (`10.0.0.0/8` covers its addresses).
      allow: cidrList(options.clients?.allow, 'clients.allow'),
      deny: cidrList(options.clients?.deny, 'clients.deny'),
      clock: this.clock,
      bans: {
        store: this.#banStore(),
        refreshMs: options.bans?.refreshMs,
        storeTimeoutMs: options.bans?.storeTimeoutMs,
        ranges: (list) => bannedRanges(list),
      },
    });
    this.clients.bans.on('ban', (ban) => {
      this.#counters.bans++;
      this.window.add('bans');
      this.emit('ban', ban);
    });
    this.clients.bans.on('unban', (event) => this.emit('unban', event));
    this.clients.bans.on('store-error', (error) =>
      this.emit('store-error', { store: 'bans', error, at: this.clock.epochNow() }),
    );
    this.dynamic = new DynamicLimits(dynamic, (change) => this.emit('limits', change));
    this.gate = new RequestGate(this, {
      store: options.rateLimit?.store,
      algorithm: options.rateLimit?.algorithm,
      onStoreError: options.rateLimit?.onStoreError,
      commandTimeoutMs: options.rateLimit?.commandTimeoutMs,
      prefix: options.rateLimit?.prefix ?? `${options.prefix ?? 'enterprise:security'}:ratelimit`,
      redis: this.#redis?.client,
      defaultLimit: options.rateLimit?.default,
      dynamic: dynamic.risk !== undefined || dynamic.pressure !== undefined,
    });
  }

  /** `created`, `started` or `closed`. */
  get state(): 'created' | 'started' | 'closed' {
    return this.#state;
  }

  /**
   * Starts following the ban store and evaluating the score and the service's pressure on a timer
   * (unref'd). Idempotent; resolves within about twice the ban store's timeout even when it is down.
   */
  async start(): Promise<void> {
    if (this.#state !== 'created') return;
    this.#state = 'started';
    this.#timer = setInterval(() => this.#tick(), Math.min(this.#intervalMs, 5_000));
    this.#timer.unref();
    await this.clients.start();
  }

  /** Stops the timers and closes what the module opened (never a Redis client or store you gave). */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearInterval(this.#timer);
    await Promise.allSettled([this.gate.close(), this.clients.close()]);
    const store = this.#options.bans?.store;
    if (typeof store !== 'object') await this.#builtBanStore?.close?.().catch(() => undefined);
    if (this.#redis?.owned) await quitClient(this.#redis.client).catch(() => undefined);
  }

  /**
   * What the middleware calls for each request: the client key, the lists and bans, the screening
   * and the rate limits that apply (`policies` are the route's). Synchronous unless a rate limit is
   * decided by a remote store. Never throws for a request; see {@link SecurityVerdict}.
   */
  inspect(
    request: ScreenedRequest,
    policies?: readonly RoutePolicy[],
  ): SecurityVerdict | Promise<SecurityVerdict> {
    return this.gate.inspect(request, policies);
  }

  /** What the middleware calls once the response is sent: auth bursts, error ratios, 5xx. */
  observe(verdict: SecurityVerdict, status: number): void {
    this.gate.observe(verdict, status);
  }

  /**
   * Records a login attempt: detectors (brute force, spraying, stuffing), figures, lockout and the
   * address's risk. Throws a SecurityConfigError for a missing `userId` or `ip`.
   */
  recordLogin(attempt: LoginAttempt): readonly ThreatEvent[] {
    const found = this.logins.record(attempt);
    this.#counters.logins++;
    if (!attempt.success) {
      this.#counters.failedLogins++;
      this.clients.recordLoginFailure(attempt.ip);
    }
    return found;
  }

  /** @see {@link LoginRecorder} */
  record(attempt: LoginAttempt): readonly ThreatEvent[] {
    return this.recordLogin(attempt);
  }

  /** Whether `userId` may try a password from `ip` now (lockout and progressive delay). */
  check(userId: string, ip: string): LoginCheck {
    return this.logins.check(userId, ip);
  }

  /**
   * Wraps a login function: refuses while locked, records each attempt from what it returned.
   *
   * @example
   * ```ts
   * const login = security.wrapLogin(auth.login, (user, _pass, ip) => ({ userId: user, ip }));
   * ```
   */
  wrapLogin<A extends unknown[], R>(
    fn: (...args: A) => R,
    extract: (...args: A) => { userId: string; ip: string },
    options?: WrapLoginOptions<Awaited<R>>,
  ): (...args: A) => Promise<Awaited<R>> {
    return wrapLogin(this, fn, extract, options);
  }

  /**
   * Bans `client` (an address, a /64 prefix or a CIDR range) on every instance sharing the store.
   * The ban is written against the client key: an IPv6 address, or a range no wider than one
   * client, bans its whole `/64` (`clientKey.ipv6Subnet`). Rejects with a SecurityConfigError
   * naming `client` or `duration` when either is invalid.
   */
  async ban(client: string, duration: Duration, reason: string): Promise<Ban> {
    return this.clients.ban(banTarget(client, this.#ipv6Subnet), duration, reason);
  }

  /** Lifts a ban (`client` read as {@link Security.ban} reads it); whether there was one. */
  async unban(client: string): Promise<boolean> {
    let target = client;
    try {
      target = banTarget(client, this.#ipv6Subnet);
    } catch {
      // Not an address or a range: a ban made under another key (`unknown`) is lifted as written.
    }
    return this.clients.unban(target);
  }

  /** The bans in force. */
  bans(): Ban[] {
    return this.clients.bans.list();
  }

  /** Reports a configuration check of the score (the middleware and the router do it themselves). */
  noteHygiene(check: HygieneCheck, ok: boolean): void {
    // HTTPS once seen stays seen; the other checks hold while every reporter says so.
    if (check === 'httpsSeen') this.#hygiene.httpsSeen ||= ok;
    else this.#hygiene[check] = (this.#hygiene[check] ?? true) && ok;
  }

  /** The inputs of the score now: the window's figures and the configuration checks. */
  scoreInputs(): SecurityScoreInputs {
    const totals = this.window.totals(this.#scoreWindowMs);
    const logins = this.logins.stats();
    const summary = this.clients.risk.summary(this.#suspiciousRisk);
    return {
      requests: totals.requests,
      logins: { attempts: logins.attempts, failed: logins.failed },
      threats: totals.threatCount,
      rateLimited: totals.rateLimited,
      bans: totals.bans,
      clients: { total: summary.clients, suspicious: summary.above },
      config: { ...this.#hygiene },
    };
  }

  /**
   * The security score, 0 to 100, over the score window, with its components; a crossing of the
   * threshold is reported as `score-low` / `score-recovered`.
   */
  score(): SecurityScoreResult & { threshold: number; low: boolean } {
    const result = this.#monitor.evaluate(this.scoreInputs());
    return { ...result, threshold: this.#monitor.threshold, low: this.#monitor.low };
  }

  /**
   * The module's state as `GET /security/monitoring` shows it: the score and its components,
   * threats by category and per minute, the `top` riskiest clients, logins, rate limits, bans.
   *
   * @example
   * ```ts
   * const { score, threats, bans } = security.report(20);
   * ```
   */
  report(top = 10): SecurityReport {
    return securityReport(this, top);
  }

  /** @internal Counters since creation, for the metrics. */
  counters(): Readonly<SecurityCounters> {
    return this.#counters;
  }

  /** The window the score is computed over, in milliseconds. */
  get scoreWindowMs(): number {
    return this.#scoreWindowMs;
  }

  /** The risk from which a client counts as suspicious. */
  get suspiciousRisk(): number {
    return this.#suspiciousRisk;
  }

  /** The last score evaluated, if any. */
  get lastScore(): number | undefined {
    return this.#monitor.last?.score;
  }

  /** Whether a store is failing now: a rate limit's (decided by insurance) or the ban store. */
  storeDown(): { rateLimits: string[]; bans: boolean } {
    return {
      rateLimits: this.gate
        .stats()
        .filter((policy) => policy.storeDown)
        .map((policy) => policy.name),
      bans: this.clients.bans.pending > 0,
    };
  }

  /** @internal A finding from any part: counted, held against its client, emitted. */
  threat(threat: ThreatEvent): void {
    this.#threat(threat);
  }

  /** @internal */
  rateLimited(event: SecurityEvents['rate-limited'][0]): void {
    this.emit('rate-limited', event);
  }

  /** @internal */
  storeEvent(
    event:
      | { kind: 'error'; policy: string; error: unknown; at: number }
      | { kind: 'recovered'; policy: string; at: number; downMs: number },
  ): void {
    if (event.kind === 'error') {
      this.logger.warn(
        { err: event.error, policy: event.policy },
        'security: rate-limit store failing, deciding locally',
      );
      this.emit('store-error', {
        store: 'rate-limit',
        policy: event.policy,
        error: event.error,
        at: event.at,
      });
    } else {
      this.logger.info(
        { policy: event.policy, downMs: event.downMs },
        'security: rate-limit store back',
      );
      this.emit('store-recovered', {
        store: 'rate-limit',
        policy: event.policy,
        at: event.at,
        downMs: event.downMs,
      });
    }
  }

  #threat(threat: ThreatEvent): void {
    const threats = this.#counters.threats;
    threats.set(threat.category, (threats.get(threat.category) ?? 0) + 1);
    this.window.threat(threat.category);
    this.clients.recordThreat(threat);
    this.emit('threat', threat);
  }

  #banStore(): BanStore {
    const store = this.#options.bans?.store;
    if (typeof store === 'object') return store;
    const redis = this.#redis;
    this.#builtBanStore =
      store === 'memory' || redis === undefined
        ? new MemoryBanStore({ clock: this.clock })
        : new RedisBanStore({
            client: redis.client,
            prefix: this.#options.prefix,
            commandTimeoutMs: this.#options.bans?.storeTimeoutMs,
            clock: this.clock,
            onError: (error) => this.logger.warn({ err: error }, 'security: ban store error'),
          });
    return this.#builtBanStore;
  }

  #tick(): void {
    try {
      const now = this.clock.epochNow();
      const last = this.window.totals(60_000);
      const errorRate = last.requests >= 20 ? last.serverErrors / last.requests : null;
      this.dynamic.assess(this.#options.system?.() ?? null, errorRate, now);
      if (now - this.#lastScoreAt >= this.#intervalMs) {
        this.#lastScoreAt = now;
        this.score();
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'security: periodic evaluation failed');
    }
  }
}

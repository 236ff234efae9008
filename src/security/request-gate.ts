// What the security module does for one request, in the order that costs least: the client's key,
// the lists and bans (from memory), the screening (synchronous), then the rate limits that apply
// (the only step that may wait, on a remote store).

import type { Clock } from '../core/clock.js';
import type { Duration } from '../core/duration.js';
import type { Logger } from '../core/logger.js';
import type { RedisClient } from '../redis/client.js';
import type { ClientKeyResolver } from './client-key/client-key.js';
import type { Clients } from './clients/clients.js';
import type { DynamicLimits } from './dynamic-limits.js';
import { RATE_LIMIT_BODY_TYPE, rateLimitBody, rateLimitHeaders } from './rate-limit/headers.js';
import { createRateLimiter, type RateLimiter } from './rate-limit/limiter.js';
import type { LimiterDecision, RateLimitAlgorithm } from './rate-limit/types.js';
import { compileRouteLimits, type RoutePolicy } from './route-limits.js';
import type { Screener } from './screening/types.js';
import type { RateLimitStore, ScreenedRequest, ThreatEvent } from './types.js';
import type { SecurityWindow } from './window.js';

/** Configuration checks of the score, as the middleware and the monitoring router report them. */
export type HygieneCheck = 'monitoringProtected' | 'securityHeaders' | 'httpsSeen';

/** What the gate uses of the module it serves (the `Security` object). */
export interface GateHost {
  readonly clientKey: ClientKeyResolver;
  readonly window: SecurityWindow;
  readonly screener: Screener | undefined;
  readonly clients: Clients;
  readonly dynamic: DynamicLimits;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly trustsProxies: boolean;
  noteHygiene(check: HygieneCheck, ok: boolean): void;
  threat(threat: ThreatEvent): void;
  rateLimited(event: { client: string; policy: string; retryAfterMs: number; at: number }): void;
  storeEvent(
    event:
      | { kind: 'error'; policy: string; error: unknown; at: number }
      | { kind: 'recovered'; policy: string; at: number; downMs: number },
  ): void;
}

/**
 * A refusal: the response the middleware sends instead of running the route.
 *
 * @example
 * ```ts
 * if (verdict.refusal) return res.writeHead(verdict.refusal.status, verdict.refusal.headers).end(JSON.stringify(verdict.refusal.body));
 * ```
 */
export interface SecurityRefusal {
  status: 403 | 429;
  reason: 'threat' | 'banned' | 'denied' | 'rate-limit';
  /** Content-Type included; `RateLimit` and `Retry-After` for a 429. */
  headers: Record<string, string>;
  /** A JSON body with a stable `code` (`E_FORBIDDEN`, `E_RATE_LIMITED`). */
  body: Record<string, unknown>;
}

/**
 * What `security.inspect()` decided for one request.
 *
 * @example
 * ```ts
 * const verdict = await security.inspect(request);
 * for (const [name, value] of Object.entries(verdict.headers ?? {})) res.setHeader(name, value);
 * ```
 */
export interface SecurityVerdict {
  /** The client key the request was judged under. */
  client: string;
  /** The findings of the screening (an empty array when clean). */
  threats: readonly ThreatEvent[];
  /** Headers for the response when the request goes on (the `RateLimit` fields of its limits). */
  headers: Record<string, string> | undefined;
  /** Set when the request is refused. */
  refusal: SecurityRefusal | undefined;
}

/** How the gate builds its limiters. */
export interface GateOptions {
  store: 'memory' | 'redis' | RateLimitStore | undefined;
  algorithm: RateLimitAlgorithm | undefined;
  onStoreError: 'insurance' | 'closed' | undefined;
  commandTimeoutMs: number | undefined;
  prefix: string;
  redis: RedisClient | undefined;
  defaultLimit: { limit: number; window: Duration } | undefined;
  dynamic: boolean;
}

/** The statistics of one rate-limit policy, as `GET /security/monitoring` shows them. */
export interface PolicyStats {
  name: string;
  limit: number;
  windowMs: number;
  allowed: number;
  refused: number;
  storeErrors: number;
  storeDown: boolean;
  onInsurance: boolean;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function forbidden(
  reason: SecurityRefusal['reason'],
  detail: Record<string, unknown>,
): SecurityRefusal {
  return {
    status: 403,
    reason,
    headers: { 'content-type': JSON_TYPE },
    body: { error: 'Forbidden', code: 'E_FORBIDDEN', reason, ...detail },
  };
}

/** The per-request path of the security module (`security.inspect` and `observe`). */
export class RequestGate {
  readonly #security: GateHost;
  readonly #options: GateOptions;
  readonly #limiters = new Map<string, { limiter: RateLimiter; rule: RoutePolicy['rule'] }>();
  readonly #default: RoutePolicy | undefined;

  constructor(security: GateHost, options: GateOptions) {
    this.#security = security;
    this.#options = options;
    this.#default =
      options.defaultLimit === undefined
        ? undefined
        : compileRouteLimits(
            [{ name: 'default', ...options.defaultLimit }],
            'rateLimit.default',
          )[0];
    // Built now, so a bad default limit fails at construction.
    if (this.#default !== undefined) this.#limiter(this.#default);
  }

  inspect(
    request: ScreenedRequest,
    policies: readonly RoutePolicy[] | undefined,
  ): SecurityVerdict | Promise<SecurityVerdict> {
    const security = this.#security;
    const client = security.clientKey(request);
    security.window.add('requests');
    if (request.secure !== undefined || security.trustsProxies) {
      security.noteHygiene('httpsSeen', request.secure === true || this.#forwardedHttps(request));
    }
    const decision = security.clients.decide(client);
    if (!decision.allowed) {
      security.window.add('blocked');
      const refusal =
        decision.reason === 'banned'
          ? forbidden('banned', { until: new Date(decision.ban!.until).toISOString() })
          : forbidden('denied', {});
      return { client, threats: [], headers: undefined, refusal };
    }
    const threats = security.screener?.screen(request, client) ?? [];
    let blocked = false;
    for (let i = 0; i < threats.length; i++) {
      const threat = threats[i]!;
      if (request.correlationId !== undefined) threat.correlationId ??= request.correlationId;
      blocked ||= threat.blocked;
      security.threat(threat);
    }
    if (blocked) {
      security.window.add('blocked');
      const first = threats.find((threat) => threat.blocked)!;
      return {
        client,
        threats,
        headers: undefined,
        refusal: forbidden('threat', { category: first.category, rule: first.rule }),
      };
    }
    const applying = this.#applying(request, policies);
    if (applying.length === 0) return { client, threats, headers: undefined, refusal: undefined };
    return this.#limit(request, client, threats, applying).catch((error: unknown) => {
      // Only a closed limiter rejects (the store's failures are decided by insurance): let it pass.
      security.logger.warn({ err: error }, 'security: rate limit not decided');
      return { client, threats, headers: undefined, refusal: undefined };
    });
  }

  #forwardedHttps(request: ScreenedRequest): boolean {
    if (!this.#security.trustsProxies) return false;
    const proto = request.headers['x-forwarded-proto'];
    const value = Array.isArray(proto) ? proto[0] : proto;
    return typeof value === 'string' && value.toLowerCase().startsWith('https');
  }

  observe(verdict: SecurityVerdict, status: number): void {
    const security = this.#security;
    if (status >= 500) security.window.add('serverErrors');
    if (verdict.refusal !== undefined) return;
    const burst = security.screener?.recordResponse(verdict.client, status);
    if (burst !== undefined) security.threat(burst);
    security.clients.recordResponse(verdict.client, status);
  }

  /** The statistics of every policy used so far. */
  stats(): PolicyStats[] {
    return [...this.#limiters].map(([name, { limiter }]) => {
      const stats = limiter.stats();
      return {
        name,
        limit: limiter.limit,
        windowMs: limiter.windowMs,
        allowed: stats.allowed,
        refused: stats.refused,
        storeErrors: stats.storeErrors,
        storeDown: stats.storeDown,
        onInsurance: stats.onInsurance,
      };
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#limiters.values()].map(({ limiter }) => limiter.close()));
  }

  #applying(request: ScreenedRequest, policies: readonly RoutePolicy[] | undefined): RoutePolicy[] {
    const out: RoutePolicy[] = [];
    if (this.#default !== undefined) out.push(this.#default);
    if (policies !== undefined) {
      for (const policy of policies)
        if (policy.matches(request.path, request.method)) out.push(policy);
    }
    return out;
  }

  async #limit(
    request: ScreenedRequest,
    client: string,
    threats: readonly ThreatEvent[],
    policies: readonly RoutePolicy[],
  ): Promise<SecurityVerdict> {
    const security = this.#security;
    // A store given as an object is shared by every policy: its keys carry the policy's name, or
    // the default limit and a route's would count against one another.
    const shared = typeof this.#options.store === 'object';
    const decisions = await Promise.all(
      policies.map((policy) => {
        const key = policy.rule.key?.(request, client) ?? client;
        return this.#limiter(policy).consume(shared ? `${policy.name}:${key}` : key, policy.cost);
      }),
    );
    // The refused decision, else the one closest to refusing, speaks for the request.
    let index = 0;
    for (let i = 1; i < decisions.length; i++) {
      if (tighter(decisions[i]!, decisions[index]!)) index = i;
    }
    const decision = decisions[index]!;
    const name = policies[index]!.name;
    const headers = rateLimitHeaders(decision, name);
    if (decision.allowed) return { client, threats, headers, refusal: undefined };
    security.window.add('rateLimited');
    security.clients.recordRateLimited(client);
    security.rateLimited({
      client,
      policy: name,
      retryAfterMs: decision.retryAfterMs,
      at: security.clock.epochNow(),
    });
    return {
      client,
      threats,
      headers: undefined,
      refusal: {
        status: 429,
        reason: 'rate-limit',
        headers: { 'content-type': RATE_LIMIT_BODY_TYPE, ...headers },
        body: rateLimitBody(decision, name),
      },
    };
  }

  #limiter(policy: RoutePolicy): RateLimiter {
    const known = this.#limiters.get(policy.name);
    if (known !== undefined && known.rule === policy.rule) return known.limiter;
    if (known !== undefined) {
      // A policy of the same name with other settings (another middleware): the first one stays.
      return known.limiter;
    }
    const options = this.#options;
    const store = options.store ?? (options.redis !== undefined ? 'redis' : 'memory');
    const security = this.#security;
    const limiter = createRateLimiter({
      limit: policy.rule.limit,
      window: policy.rule.window,
      ...(typeof store === 'object' ? { store } : { store, algorithm: options.algorithm }),
      ...(store === 'redis'
        ? { redis: options.redis, prefix: `${options.prefix}:${encodeURIComponent(policy.name)}` }
        : {}),
      onStoreError: options.onStoreError,
      commandTimeoutMs: options.commandTimeoutMs,
      clock: security.clock,
      dynamic: options.dynamic
        ? (key) =>
            security.dynamic.multiplier(
              key,
              security.clients.risk.score(key),
              security.clock.epochNow(),
            )
        : undefined,
    });
    limiter.on('store-error', ({ error, at }) =>
      security.storeEvent({ kind: 'error', policy: policy.name, error, at }),
    );
    limiter.on('store-recovered', ({ at, downMs }) =>
      security.storeEvent({ kind: 'recovered', policy: policy.name, at, downMs }),
    );
    this.#limiters.set(policy.name, { limiter, rule: policy.rule });
    return limiter;
  }
}

function tighter(a: LimiterDecision, b: LimiterDecision): boolean {
  if (a.allowed !== b.allowed) return !a.allowed;
  return a.remaining / a.limit < b.remaining / b.limit;
}

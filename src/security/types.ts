// The security module's extension points and the shapes it hands out: what a request looks like
// to the screening, what it finds, how clients are keyed, and where rate limits and bans live.
import type { Duration } from '../core/duration.js';

/**
 * What the screening and the client key read of one request: framework-neutral, filled by the
 * adapters' middleware (or by hand when screening a request yourself).
 *
 * @example
 * ```ts
 * const request: ScreenedRequest = {
 *   method: 'GET', path: '/search', query: 'q=shoes&page=2',
 *   headers: { 'user-agent': 'curl/8.5.0' }, remoteAddress: '203.0.113.7',
 * };
 * ```
 */
export interface ScreenedRequest {
  method: string;
  /** The path as received (still percent-encoded), without the query string. */
  path: string;
  /** The raw query string without `?`, `''` when there is none. */
  query: string;
  /** Header names in lower case; repeated headers joined with `, ` or given as arrays. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** The socket's peer address (the proxy's, behind one). */
  remoteAddress: string | undefined;
  /** The request's correlation id, when the middleware gave it one. */
  correlationId?: string;
  /** The request came over TLS to this process (the middleware reads the socket). */
  secure?: boolean;
}

/** What kind of attack a finding points to (categories of the OWASP Core Rule Set, roughly). */
export type ThreatCategory =
  | 'sql-injection'
  | 'xss'
  | 'path-traversal'
  | 'command-injection'
  | 'scanner'
  | 'sensitive-path'
  | 'malformed-request'
  | 'auth-burst'
  | 'brute-force'
  | 'password-spraying'
  | 'credential-stuffing';

/**
 * One finding: a request (or a series of them, or of logins) that looks like an attack. Emitted as
 * `security.on('threat', listener)` and counted in metrics.
 */
export interface ThreatEvent {
  category: ThreatCategory;
  /** 0 to 1: how sure the rule is (a scanner's user agent 0.9, a lone quote in a query 0.3). */
  confidence: number;
  /** The rule that matched, such as `sqli.union-select` or `probe.dotenv`. */
  rule: string;
  /** The client key (address or /64 prefix) the finding is held against. */
  client: string;
  /** Where it matched: `path`, `query`, `header:user-agent`, `logins`... */
  location: string;
  /** The matched text, cut to 100 characters, for the record (never a whole payload). */
  evidence?: string;
  correlationId?: string;
  /** Whether the request was refused (mode `block`). */
  blocked: boolean;
  /** Epoch milliseconds. */
  at: number;
}

/**
 * One rate-limit decision. `remaining` and `resetMs` describe the key's window after this call;
 * `retryAfterMs` is set when the call was refused.
 */
export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the key's usage is back to zero. */
  resetMs: number;
  /** Milliseconds until a call of the same cost would be allowed; 0 when allowed. */
  retryAfterMs: number;
}

/**
 * Where a limiter keeps its state: one atomic decision per call, exact under concurrency. Memory
 * for one process, Redis (one script per call, Cluster-safe keys) for a deployment. The limiter
 * adds the insurance limiter, dynamic limits and headers around it.
 *
 * @example
 * ```ts
 * const decision = await store.consume('login:203.0.113.7', { limit: 5, windowMs: 60_000, cost: 1 });
 * ```
 */
export interface RateLimitStore {
  /** Counts `cost` against `key` if it fits in `limit` per `windowMs`; never partially. */
  consume(
    key: string,
    options: { limit: number; windowMs: number; cost: number },
  ): Promise<RateLimitDecision>;
  /** Forgets `key` (a successful login clearing its failures). */
  reset(key: string): Promise<void>;
  close?(): Promise<void>;
}

/**
 * A temporary ban: requests from `client` (an address, a /64 prefix, or a CIDR range) are refused
 * until `until`. Shared by all instances through the ban store.
 */
export interface Ban {
  client: string;
  /** Epoch milliseconds. */
  until: number;
  reason: string;
  /** `manual` (security.ban), `threats`, `logins` or `rate-limit`. */
  source: string;
  createdAt: number;
}

/**
 * Where bans live: memory for one process, Redis for a deployment. `describeBanStore()` from
 * `@revcopy/enterprise/testing` checks an implementation.
 */
export interface BanStore {
  /** Stores `ban`, replacing the client's ban if it has one (longer or shorter). */
  put(ban: Ban): Promise<void>;
  /** Lifts the ban of `client`; whether there was one in force (a ban that ended is none). */
  delete(client: string): Promise<boolean>;
  /** Every ban still in force: those whose `until` has not passed. */
  list(): Promise<readonly Ban[]>;
  /** Releases what the store opened; idempotent, and every call after it rejects. */
  close?(): Promise<void>;
}

/** One login attempt, as `security.recordLogin()` takes it. */
export interface LoginAttempt {
  userId: string;
  ip: string;
  success: boolean;
  /** Why it failed (`bad-password`, `unknown-user`, `locked`...). */
  reason?: string;
  /** Epoch milliseconds; now by default. */
  at?: number;
}

/** How the client address is found behind proxies. Never from forwarding headers by default. */
export interface TrustProxyOptions {
  /**
   * Addresses or CIDR ranges of the proxies in front of the service (`['10.0.0.0/8', '::1']`), or
   * a number of hops to trust, or `false` (the default: the socket's address is the client).
   */
  trustProxy?: readonly string[] | number | false;
  /** IPv6 clients are grouped by this prefix length, so one host rotating addresses is one client. Default 64. */
  ipv6Subnet?: number;
}

/** Options of one limit: `limit` calls per `window`. */
export interface RateLimitRule {
  limit: number;
  window: Duration;
}

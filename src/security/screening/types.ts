import type { Duration } from '../../core/duration.js';
import type { ScreenedRequest, ThreatCategory, ThreatEvent } from '../types.js';

/**
 * Where a rule looks: the path, the query (names and values), the screened headers
 * (`user-agent`, `referer`, `x-forwarded-for` and those named in `headers`) or the cookies
 * (names and values).
 */
export type ScreeningFieldKind = 'path' | 'query' | 'header' | 'cookie';

/**
 * One part of a request as a rule sees it. `raw` is the text as received (cut to
 * `maxFieldBytes`); the text given to `match` is decoded as a server would decode it.
 */
export interface ScreenedField {
  kind: ScreeningFieldKind;
  /** `path`, `query:<name>`, `query-name`, `header:user-agent`, `cookie:<name>`, `cookie-name`. */
  location: string;
  raw: string;
}

/**
 * A screening rule of your own, beside the built-in ones.
 *
 * @example
 * ```ts
 * const legacyAdmin: ScreeningRule = {
 *   id: 'app.legacy-admin',
 *   category: 'sensitive-path',
 *   confidence: 0.8,
 *   fields: ['path'],
 *   match: (text) => (text.startsWith('/old-admin') ? text : undefined),
 * };
 * createScreener({ rules: { custom: [legacyAdmin] } });
 * ```
 */
export interface ScreeningRule {
  /** A stable id, such as `app.legacy-admin`: named in findings and in `rules.disable`. */
  id: string;
  category: ThreatCategory;
  /** 0 to 1: how sure a match is. */
  confidence: number;
  /** The fields it reads; all of them when omitted. */
  fields?: readonly ScreeningFieldKind[];
  /**
   * Called for each field with its text percent-decoded (path, query, referer, cookies; `+` as a
   * space in the query), Unicode-normalised (NFKC) when not ASCII, lower-cased and cut to
   * `maxFieldBytes` (a long field that repeats a short unit is passed as two short views, its
   * start and its end). Returns the matched text (the finding's evidence) or `true` on a match.
   * Keep it cheap and linear-time: it runs on every request. A rule that throws is skipped.
   */
  match(text: string, field: ScreenedField): string | boolean | null | undefined;
  /** In `block` mode, whether a match refuses the request; by default when `confidence >= blockConfidence`. */
  block?: boolean;
}

/** A rule as listed by `screener.rules`: built-in or custom. */
export interface ScreeningRuleInfo {
  id: string;
  category: ThreatCategory;
  confidence: number;
  /** What it looks for, in a sentence. */
  description: string;
  builtin: boolean;
}

/**
 * Options of {@link createScreener}.
 *
 * @example
 * ```ts
 * createScreener({
 *   mode: 'block',
 *   rules: { disable: ['probe.wordpress', 'malformed.*'] },
 *   headers: ['x-original-url'],
 * });
 * ```
 */
export interface ScreenerOptions {
  /** `detect` (the default) reports findings; `block` also marks strong ones `blocked` for the middleware to refuse. */
  mode?: 'detect' | 'block';
  /** In `block` mode, the confidence from which a finding blocks (default 0.7). */
  blockConfidence?: number;
  rules?: {
    /** Rule ids to turn off; `sqli.*` turns off every rule whose id starts with `sqli.`. */
    disable?: readonly string[];
    custom?: readonly ScreeningRule[];
  };
  /** How much of each field is read (default 8192 characters); the rest is not screened. */
  maxFieldBytes?: number;
  /** A header value longer than this is a finding (default 8192). */
  maxHeaderBytes?: number;
  /** More headers than this is a finding (default 100). */
  maxHeaders?: number;
  /** A path and query longer than this is a finding (default 8192). */
  maxUrlBytes?: number;
  /**
   * Query parameters (and cookies) screened at most (default 256); more is a finding that blocks
   * in `block` mode, since the rest goes unscreened.
   */
  maxParams?: number;
  /** Headers screened beside `user-agent`, `referer`, `x-forwarded-for` and `cookie`, in lower case. */
  headers?: readonly string[];
  /** Bursts of 401/403/404 responses (see {@link AuthBurstOptions}); `false` turns them off. */
  authBurst?: AuthBurstOptions | false;
  /** Told when a rule throws (the rule is skipped for that field and counted). */
  onRuleError?: (ruleId: string, error: unknown) => void;
  /** Epoch milliseconds, for the findings' `at` (default `Date.now`). */
  now?: () => number;
}

/** Counters of one screener since it was created. */
export interface ScreeningStats {
  /** Requests screened. */
  screened: number;
  /** Findings reported (auth bursts included). */
  findings: number;
  /** Findings marked blocked. */
  blocked: number;
  /** Rule calls that threw, in total and by rule id. */
  ruleErrors: number;
  ruleErrorsByRule: Record<string, number>;
}

/**
 * Screens requests against the rules: synchronous, cheap, never throws for a request.
 *
 * @example
 * ```ts
 * const screener = createScreener({ mode: 'block' });
 * const findings = screener.screen(request, clientKey(request, { trustProxy: ['10.0.0.0/8'] }));
 * if (findings.some((f) => f.blocked)) return refuse(403);
 * // after the response:
 * screener.recordResponse(client, response.status);
 * ```
 */
export interface Screener {
  /** The findings on one request, one per rule at most; an empty array (shared, frozen) when clean. */
  screen(request: ScreenedRequest, client: string): ThreatEvent[];
  /** Feeds the auth-burst tracker one response; returns the `auth-burst` finding when this one completes a burst. */
  recordResponse(client: string, status: number, at?: number): ThreatEvent | undefined;
  /** The rules in force, built-in and custom. */
  readonly rules: readonly ScreeningRuleInfo[];
  stats(): ScreeningStats;
}

/**
 * Options of the auth-burst tracker: `threshold` responses with one of `statuses` from one client
 * within `window` make one `auth-burst` finding (then none for that client for a window).
 *
 * @example
 * ```ts
 * createAuthBurstTracker({ threshold: 30, window: '1m', statuses: [401, 403] });
 * ```
 */
export interface AuthBurstOptions {
  /** Responses within the window that make a burst (default 20). */
  threshold?: number;
  /** The window (default `'10s'`). */
  window?: Duration;
  /** The statuses counted (default 401, 403, 404). */
  statuses?: readonly number[];
  /** Clients remembered at most; the least recently seen is forgotten first (default 10,000). */
  maxClients?: number;
  /** The findings' confidence (default 0.7). */
  confidence?: number;
}

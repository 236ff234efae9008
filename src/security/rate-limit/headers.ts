// What a response says about a decision: the IETF RateLimit header fields, Retry-After, and a
// problem-details body for the 429.
import { describeValue } from '../../core/errors.js';
import { SecurityConfigError } from '../errors.js';
import type { RateLimitDecision } from '../types.js';

/**
 * The media type of {@link rateLimitBody} (RFC 9457 problem details).
 *
 * @example
 * ```ts
 * res.setHeader('content-type', RATE_LIMIT_BODY_TYPE);
 * ```
 */
export const RATE_LIMIT_BODY_TYPE = 'application/problem+json';

/** sf-string characters (RFC 9651 §3.3.3): printable ASCII; `"` and `\` are escaped. */
const PRINTABLE = /^[\x20-\x7e]*$/;

function policyItem(policyName: string): string {
  if (typeof policyName !== 'string' || policyName.length === 0 || !PRINTABLE.test(policyName)) {
    throw new SecurityConfigError(
      `rateLimitHeaders: policyName=${describeValue(policyName)} is invalid: expected a non-empty string of printable ASCII`,
      { field: 'policyName', value: policyName, expected: 'a non-empty string of printable ASCII' },
    );
  }
  return `"${policyName.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1_000));

/**
 * The response headers of a decision, in the syntax of the IETF draft "RateLimit header fields for
 * HTTP" (draft-ietf-httpapi-ratelimit-headers-10, September 2025; the working group's copy of May
 * 2026 keeps the syntax): structured-field lists of one item named after the policy.
 *
 * - `RateLimit-Policy: "default";q=100;w=60`: the quota `q` (the decision's limit, lowered when a
 *   dynamic multiplier applies, as the draft allows under reduced capacity) per window `w` in
 *   whole seconds (rounded up: the draft has no sub-second windows), when the decision carries
 *   `windowMs` (the limiter's do);
 * - `RateLimit: "default";r=42;t=17`: `r` the units left; `t` in seconds, the "effective window"
 *   of the May 2026 copy (a time within which the client should use no more than `r`): when
 *   allowed, until the key's usage is back to zero (spreading `r` over `t` is never refused); when
 *   refused, until a call of that cost fits again, so `Retry-After` never points before the end
 *   of `t` (§6). Draft 10 reads `t` as the time until more quota is available, which a refused
 *   decision matches exactly and an allowed one overstates (GCRA frees quota continuously);
 * - `Retry-After: 17` (delay-seconds, at least 1) when the call was refused.
 *
 * Throws a {@link SecurityConfigError} (field `policyName`) for a name that is not printable ASCII.
 *
 * @see https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/
 * @example
 * ```ts
 * for (const [name, value] of Object.entries(rateLimitHeaders(decision, 'api'))) res.setHeader(name, value);
 * ```
 */
export function rateLimitHeaders(
  decision: RateLimitDecision & { windowMs?: number },
  policyName = 'default',
): Record<string, string> {
  const item = policyItem(policyName);
  const window =
    typeof decision.windowMs === 'number' && decision.windowMs > 0
      ? `;w=${Math.max(1, seconds(decision.windowMs))}`
      : '';
  const remaining = Math.max(0, Math.floor(decision.remaining));
  const t = seconds(decision.allowed ? decision.resetMs : decision.retryAfterMs);
  const headers: Record<string, string> = {
    'RateLimit-Policy': `${item};q=${Math.max(0, Math.floor(decision.limit))}${window}`,
    RateLimit: `${item};r=${remaining};t=${t}`,
  };
  if (!decision.allowed) headers['Retry-After'] = String(Math.max(1, t));
  return headers;
}

/**
 * The body of a 429 response: RFC 9457 problem details of the draft's `quota-exceeded` problem
 * type, with the policy that was exceeded, the package's error code and the wait in seconds.
 * Send it with `Content-Type: application/problem+json` ({@link RATE_LIMIT_BODY_TYPE}).
 *
 * @example
 * ```ts
 * res.writeHead(429, { 'content-type': RATE_LIMIT_BODY_TYPE, ...rateLimitHeaders(decision) });
 * res.end(JSON.stringify(rateLimitBody(decision)));
 * ```
 */
export function rateLimitBody(
  decision: RateLimitDecision,
  policyName = 'default',
): {
  type: string;
  title: string;
  status: 429;
  detail: string;
  'violated-policies': string[];
  code: 'E_RATE_LIMITED';
  retryAfter: number;
} {
  policyItem(policyName);
  const retryAfter = Math.max(1, seconds(decision.retryAfterMs));
  return {
    type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
    title: 'Request cannot be satisfied as assigned quota has been exceeded',
    status: 429,
    detail: `Too many requests: retry in ${retryAfter} s.`,
    'violated-policies': [policyName],
    code: 'E_RATE_LIMITED',
    retryAfter,
  };
}

import type { LimiterDecision } from './types.js';

/**
 * @internal The one shape every built-in store and the limiter hand out, so the decision path
 * sees a single object layout.
 *
 * @example
 * ```ts
 * return new Decision(true, 100, 99, 600, 0, 60_000);
 * ```
 */
export class Decision implements LimiterDecision {
  source: LimiterDecision['source'] = 'store';
  constructor(
    public allowed: boolean,
    public limit: number,
    public remaining: number,
    public resetMs: number,
    public retryAfterMs: number,
    public windowMs: number,
  ) {}
}

/**
 * @internal Validates what a store answered and completes it: a custom store may return a plain
 * {@link RateLimitDecision}, or something malformed, which counts as a store failure.
 *
 * @example
 * ```ts
 * const decision = fromStore(await store.consume(key, options), options.windowMs);
 * ```
 */
export function fromStore(answer: unknown, windowMs: number): Decision {
  if (answer instanceof Decision) return answer;
  const a = answer as Partial<LimiterDecision> | null | undefined;
  if (
    a === null ||
    typeof a !== 'object' ||
    typeof a.allowed !== 'boolean' ||
    !isCount(a.limit) ||
    !isCount(a.remaining) ||
    !isCount(a.resetMs) ||
    !isCount(a.retryAfterMs)
  ) {
    throw new TypeError('the rate limit store answered something that is not a RateLimitDecision');
  }
  return new Decision(a.allowed, a.limit, a.remaining, a.resetMs, a.retryAfterMs, windowMs);
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;

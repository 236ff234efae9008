// Redis forgets its Lua scripts on a restart, a failover or SCRIPT FLUSH: every consume then goes
// again by EVAL, the first ones after later calls that found the script loaded. Two limiters share
// a private Redis flushed every few milliseconds: each key still admits exactly its limit, every
// decision comes from the store (never from the insurance limiter), and no call fails.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  createRateLimiter,
  type LimiterDecision,
  type RateLimiter,
} from '../../../src/security/rate-limit/index.js';
import type { RateLimitAlgorithm } from '../../../src/security/rate-limit/types.js';
import { redisServer, usePrivateRedis } from '../../support/private-redis.js';
import { requires } from '../../support/requirements.js';
import { flushScripts, scriptFallbacks } from '../../support/script-flusher.js';

const LIMIT = 25;
const KEYS = 16;
const ROUNDS = 40;
/** Calls per key per round, half on each limiter: ROUNDS * PER_ROUND is far above the limit. */
const PER_ROUND = 4;

describe.runIf(requires(redisServer))('rate limiting while Redis forgets its scripts', () => {
  const redis = usePrivateRedis();

  for (const algorithm of ['gcra', 'sliding-window'] as RateLimitAlgorithm[]) {
    it(`${algorithm}: two limiters never admit more than the limit per key`, async () => {
      // An hour's window: what GCRA lets back in during the test is far below one call.
      const limiters: RateLimiter[] = [0, 1].map(() =>
        createRateLimiter({
          limit: LIMIT,
          window: '1h',
          algorithm,
          redisUrl: redis.url,
          prefix: `flush:${algorithm}`,
          commandTimeoutMs: 2_000,
        }),
      );
      const decisions = new Map<string, LimiterDecision[]>();
      const before = await scriptFallbacks(redis.admin);
      const flusher = flushScripts(redis.admin);
      try {
        for (let round = 0; round < ROUNDS; round++) {
          await Promise.all(
            Array.from({ length: KEYS * PER_ROUND }, async (_, i) => {
              const key = `client-${i % KEYS}`;
              const decision = await limiters[i % 2]!.consume(key);
              decisions.set(key, [...(decisions.get(key) ?? []), decision]);
            }),
          );
          await sleep(2);
        }
      } finally {
        await flusher.stop();
        for (const limiter of limiters) await limiter.close();
      }
      const after = await scriptFallbacks(redis.admin);
      expect(flusher.flushes).toBeGreaterThan(20);
      // The fallback really ran: calls were answered NOSCRIPT and went again by EVAL.
      expect(after.noscript - before.noscript).toBeGreaterThan(100);
      expect(after.evals - before.evals).toBeGreaterThan(100);

      expect(decisions.size).toBe(KEYS);
      for (const [key, list] of decisions) {
        expect(list, key).toHaveLength(ROUNDS * PER_ROUND);
        // Every decision is the store's: none fell back to the per-process insurance limiter.
        expect(new Set(list.map((d) => d.source)), key).toEqual(new Set(['store']));
        expect(
          list.filter((d) => d.allowed),
          key,
        ).toHaveLength(LIMIT);
      }
      for (const limiter of limiters) {
        expect(limiter.stats()).toMatchObject({ storeErrors: 0, outages: 0, storeDown: false });
      }
      const allowed = limiters.reduce((sum, limiter) => sum + limiter.stats().allowed, 0);
      expect(allowed).toBe(KEYS * LIMIT);
    }, 20_000);
  }
});

// Redis forgets its Lua scripts on a restart, a failover or SCRIPT FLUSH: episode starts, episode
// touches and history records of the Redis alert store then go again by EVAL, the first ones after
// later calls that found the script loaded. Two stores of one deployment on a private Redis flushed
// every few milliseconds: every instance reads one start per episode, a touch never brings back an
// episode that ended, and a transition both instances record is in the history once.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RedisAlertStore } from '../../src/alerts/index.js';
import type { AlertTransition } from '../../src/alerts/types.js';
import { redisServer, usePrivateRedis } from '../support/private-redis.js';
import { requires } from '../support/requirements.js';
import { flushScripts, scriptFallbacks } from '../support/script-flusher.js';

const KEYS = 16;
const ROUNDS = 12;
const TTL_MS = 60_000;

describe.runIf(requires(redisServer))('the alert store while Redis forgets its scripts', () => {
  const redis = usePrivateRedis();

  it('keeps one start per episode, ends episodes for good and records each transition once', async () => {
    const prefix = 'flush:alerts';
    const stores = [0, 1].map(
      () => new RedisAlertStore({ url: redis.url, prefix, commandTimeoutMs: 2_000 }),
    );
    const transitions: AlertTransition[] = [];
    let episodes = 0;
    try {
      const before = await scriptFallbacks(redis.admin);
      const flusher = flushScripts(redis.admin);
      try {
        await Promise.all(
          Array.from({ length: KEYS }, async (_, k) => {
            const key = `a:${k}`;
            for (let round = 0; round < ROUNDS; round++) {
              // Both instances start the episode at once, each with its own idea of when.
              const at = 1_000_000 * (round + 1) + k;
              const starts = await Promise.all(
                [0, 1, 0, 1].map((s, i) => stores[s]!.episode(key, at + i, TTL_MS)),
              );
              expect(new Set(starts), `${key} round ${round}`).toEqual(new Set([starts[0]]));
              expect(starts[0]! - at).toBeGreaterThanOrEqual(0);
              expect(starts[0]! - at).toBeLessThan(4);
              await stores[round % 2]!.touchEpisodes([key], TTL_MS);
              // Both record the change, as two instances evaluating one rule do.
              const transition: AlertTransition = {
                // The dedupe marker names fingerprint, from and to: one fingerprint per round.
                fingerprint: `f${k}-${round}`,
                rule: 'flush',
                from: round % 2 === 0 ? 'pending' : 'firing',
                to: round % 2 === 0 ? 'firing' : 'resolved',
                at: new Date(at).toISOString(),
                severity: 'warning',
                labels: { key },
                value: round,
              };
              await Promise.all(stores.map((store) => store.record(transition, 10_000, 60_000)));
              transitions.push(transition);
              await stores[(round + 1) % 2]!.endEpisode(key);
              // A touch after the end (a late instance) must not bring the episode back.
              await stores[round % 2]!.touchEpisodes([key], TTL_MS);
              expect(await redis.admin.exists(`{${prefix}}:episode:${key}`), key).toBe(0);
              episodes++;
              await sleep(2);
            }
          }),
        );
      } finally {
        await flusher.stop();
      }
      const after = await scriptFallbacks(redis.admin);
      expect(flusher.flushes).toBeGreaterThan(20);
      // The fallback really ran: store calls were answered NOSCRIPT and went again by EVAL.
      expect(after.noscript - before.noscript).toBeGreaterThan(20);
      expect(episodes).toBe(KEYS * ROUNDS);

      const history = await stores[0]!.history(100_000);
      expect(history).toHaveLength(KEYS * ROUNDS);
      const id = (t: AlertTransition) => `${t.fingerprint} ${t.at} ${t.from}>${t.to}`;
      expect(history.map(id).sort()).toEqual(transitions.map(id).sort());
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  }, 20_000);
});

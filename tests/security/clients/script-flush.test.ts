// Redis forgets its Lua scripts on a restart, a failover or SCRIPT FLUSH: every ban, unban and
// list of the Redis ban store then goes again by EVAL, the first ones after later calls that found
// the script loaded. Two instances ban and unban clients on a private Redis flushed every few
// milliseconds: the store, and each instance's view (kept by the change messages alone), end with
// what the last call for each client said.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BanList, RedisBanStore } from '../../../src/security/clients/index.js';
import { redisServer, usePrivateRedis } from '../../support/private-redis.js';
import { requires } from '../../support/requirements.js';
import { flushScripts, scriptFallbacks } from '../../support/script-flusher.js';

const CLIENTS = 24;
const ROUNDS = 30;

describe.runIf(requires(redisServer))('shared bans while Redis forgets their scripts', () => {
  const redis = usePrivateRedis();

  it('ends every client banned or not as its last ban or unban said', async () => {
    const stores = [0, 1].map(
      () => new RedisBanStore({ url: redis.url, prefix: 'flush:bans', commandTimeoutMs: 2_000 }),
    );
    // No periodic refresh during the test: the other instance follows the change messages only.
    const lists = stores.map((store) => new BanList({ store, refreshMs: 600_000 }));
    const expected = new Map<string, string | undefined>();
    let bans = 0;
    let unbans = 0;
    try {
      await Promise.all(lists.map((list) => list.start()));
      const before = await scriptFallbacks(redis.admin);
      const flusher = flushScripts(redis.admin);
      try {
        await Promise.all(
          Array.from({ length: CLIENTS }, async (_, c) => {
            const client = `203.0.113.${c}`;
            for (let round = 0; round < ROUNDS; round++) {
              const actor = lists[(c + round) % 2]!;
              // Rounds of a client alternate instances; one in three lifts the ban.
              if ((c + round) % 3 === 2) {
                await actor.unban(client);
                expected.set(client, undefined);
                unbans++;
              } else {
                const reason = `round ${round}`;
                await actor.ban(client, '1h', reason);
                expected.set(client, reason);
                bans++;
              }
              // Another list of the bans, racing the other clients' changes.
              if (round % 5 === 0) await stores[round % 2]!.list();
              await sleep(2);
            }
          }),
        );
      } finally {
        await flusher.stop();
      }
      const after = await scriptFallbacks(redis.admin);
      expect(flusher.flushes).toBeGreaterThan(20);
      // The fallback really ran: bans and unbans were answered NOSCRIPT and went again by EVAL.
      expect(after.noscript - before.noscript).toBeGreaterThan(20);
      expect(bans + unbans).toBe(CLIENTS * ROUNDS);
      expect(unbans).toBeGreaterThan(CLIENTS * 5);

      const banned = (entries: [string, string | undefined][]) =>
        entries.filter(([, reason]) => reason !== undefined).sort(([a], [b]) => a.localeCompare(b));
      const want = banned([...expected]);
      expect(want.length).toBeGreaterThan(CLIENTS / 4);
      for (const store of stores) {
        const stored = (await store.list()).map((ban): [string, string] => [
          ban.client,
          ban.reason,
        ]);
        expect(banned(stored)).toEqual(want);
      }
      const deadline = Date.now() + 3_000;
      for (const list of lists) {
        const seen = () =>
          banned(list.list().map((ban): [string, string] => [ban.client, ban.reason]));
        while (JSON.stringify(seen()) !== JSON.stringify(want) && Date.now() < deadline) {
          await sleep(10);
        }
        expect(seen()).toEqual(want);
      }
      for (const list of lists) expect(list.pending).toBe(0);
    } finally {
      await Promise.all(lists.map((list) => list.close()));
      await Promise.all(stores.map((store) => store.close()));
    }
  }, 20_000);
});

// Redis forgetting its Lua scripts (restart, failover, SCRIPT FLUSH) while a workload runs: a
// bounded loop flushing a private server, and how many calls went by the EVAL fallback meanwhile,
// so a fault test can show the fault happened and was met.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';

/** A running flush loop: how many flushes so far, and `stop()`, which resolves that count. */
export interface ScriptFlusher {
  readonly flushes: number;
  stop(): Promise<number>;
}

/**
 * Sends SCRIPT FLUSH every `everyMs` on `admin` (a private server: never the shared test Redis,
 * whose other suites would lose their scripts) until `stop()` or `maxMs`, whichever comes first.
 *
 * @example
 * ```ts
 * const flusher = flushScripts(redis.admin);
 * try { await workload(); } finally { expect(await flusher.stop()).toBeGreaterThan(20); }
 * ```
 */
export function flushScripts(admin: Redis, everyMs = 2, maxMs = 60_000): ScriptFlusher {
  let running = true;
  let flushes = 0;
  const loop = (async () => {
    // Bounded: the test's own end stops it, and so does this deadline if the test forgets to.
    const deadline = Date.now() + maxMs;
    while (running && Date.now() < deadline) {
      await admin.script('FLUSH');
      flushes += 1;
      await sleep(everyMs);
    }
  })();
  return {
    get flushes() {
      return flushes;
    },
    async stop() {
      running = false;
      await loop;
      return flushes;
    },
  };
}

/**
 * How many calls the server answered NOSCRIPT and how many EVALs it ran since its start (INFO):
 * every NOSCRIPT is a call of `runScript` that had to fall back to EVAL.
 *
 * @example
 * ```ts
 * const before = await scriptFallbacks(redis.admin);
 * await workload();
 * expect((await scriptFallbacks(redis.admin)).noscript - before.noscript).toBeGreaterThan(10);
 * ```
 */
export async function scriptFallbacks(admin: Redis): Promise<{ noscript: number; evals: number }> {
  const errors = await admin.info('errorstats');
  const commands = await admin.info('commandstats');
  const count = (text: string, pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    noscript: count(errors, /^errorstat_NOSCRIPT:count=(\d+)/m),
    evals: count(commands, /^cmdstat_eval:calls=(\d+)/m),
  };
}

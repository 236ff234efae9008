import { createHash } from 'node:crypto';
import type { RedisClient } from './client.js';

/**
 * @internal A Lua script with its SHA1, run by {@link runScript}.
 *
 * @example
 * ```ts
 * const script: LuaScript = luaScript("return redis.call('GET', KEYS[1])");
 * ```
 */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

/**
 * @internal A script, hashed once where it is declared.
 *
 * @example
 * ```ts
 * const TOUCH = luaScript("return redis.call('PEXPIRE', KEYS[1], ARGV[1])");
 * ```
 */
export function luaScript(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * @internal EVALSHA, then EVAL when Redis does not know the script yet (restart, failover,
 * SCRIPT FLUSH). Unlike `defineCommand` it adds nothing to a client the application owns.
 *
 * @example
 * ```ts
 * await runScript(client, TOUCH, ['shop:{cart}:k:=1'], [60_000]);
 * ```
 */
export async function runScript(
  client: RedisClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number | Buffer)[],
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(script.source, keys.length, ...keys, ...args);
  }
}

import type { RedisClient } from './client.js';
import { masters } from './client.js';

/**
 * @internal The version of the Redis server behind `client` (of the first master of a Cluster),
 * from `INFO server`; `undefined` when the reply does not name one. Rejects as the command does:
 * callers bound it with their own timeout.
 *
 * @example
 * ```ts
 * await redisServerVersion(client); // '7.2.4'
 * ```
 */
export async function redisServerVersion(client: RedisClient): Promise<string | undefined> {
  const node = masters(client)[0];
  if (node === undefined) return undefined;
  const info = await node.info('server');
  // Valkey keeps `redis_version` for compatibility and adds its own line; prefer its own.
  const version = /^valkey_version:(.+)$/m.exec(info) ?? /^redis_version:(.+)$/m.exec(info);
  return version?.[1]?.trim();
}

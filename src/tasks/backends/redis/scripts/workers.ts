import { luaScript } from '../../../../redis/scripts.js';
import { COMMON } from './common.js';

/**
 * Drops up to `limit` worker entries whose heartbeat expired before `now` (both keys together).
 */
const WORKERS_COMMON = `${COMMON}
local function prune(k_workers, k_exp, limit)
  local expired = redis.call('ZRANGEBYSCORE', k_exp, '-inf', '(' .. now, 'LIMIT', 0, limit)
  if #expired > 0 then
    redis.call('HDEL', k_workers, unpack(expired))
    redis.call('ZREM', k_exp, unpack(expired))
  end
end
`;

/**
 * HEARTBEAT. KEYS: workers hash, workers expiry zset. ARGV: worker id, JSON, ttl ms. Writes the
 * entry (with the server's time) and its expiry together, so a listed worker always has both, and
 * drops a few expired entries: workers that died without saying so leave the registry even when
 * nobody lists it.
 */
export const HEARTBEAT = luaScript(`${WORKERS_COMMON}
now = server_now()
redis.call('HSET', KEYS[1], ARGV[1], now .. '|' .. ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
prune(KEYS[1], KEYS[2], 20)
return 1
`);

/**
 * WORKERS. KEYS: workers hash, workers expiry zset. Drops the entries whose heartbeat expired and
 * returns the server's time followed by the `<server ms>|<JSON>` entry of every other.
 */
export const WORKERS = luaScript(`${WORKERS_COMMON}
now = server_now()
prune(KEYS[1], KEYS[2], 1000)
local out = redis.call('HVALS', KEYS[1])
table.insert(out, 1, now)
return out
`);

/** REMOVE_WORKER. KEYS: workers hash, workers expiry zset. ARGV: worker id. */
export const REMOVE_WORKER = luaScript(`
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`);

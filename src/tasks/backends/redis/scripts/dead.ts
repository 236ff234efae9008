import { luaScript } from '../../../../redis/scripts.js';
import { COMMON } from './common.js';

/**
 * RETRY_DEAD. KEYS: the task's hash, dead, ready, marker, blocked, its pending set, memo. ARGV: id,
 * queue key prefix, memo ms. A dead task goes back with `attempts` reset (its last error is kept
 * for reference), and waits for its dependencies again: those completed (or no longer stored) are
 * done, those still to run make it blocked on them, and one that is dead or cancelled refuses the
 * retry when the task fails with its dependencies (nothing changes; retry the dependency first).
 * Returns `{1}` (retried: ready or blocked), `{0}` (not dead) or `{2, dependency, state}`
 * (refused); a re-sent call returns the first answer.
 */
export const RETRY_DEAD = luaScript(`${COMMON}
local seen = memo_get(KEYS[7])
if seen then return { tonumber(seen) } end
prefix = ARGV[2]
local tk, k_dead, k_ready, k_marker, k_blocked, k_pending = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id = ARGV[1]
local f = redis.call('HMGET', tk, 's', 'pr', 'sq', 'm', 'ff', 'g')
if f[1] ~= 'dead' then return { 0 } end
local deps = {}
if f[4] then
  local ok, meta = pcall(cjson.decode, f[4])
  if ok and type(meta) == 'table' and type(meta.dp) == 'table' then deps = meta.dp end
end
local pending = {}
for _, dep in ipairs(deps) do
  local s = redis.call('HGET', prefix .. 't:' .. dep, 's')
  if s == 'dead' or s == 'cancelled' then
    if f[5] ~= '0' then return { 2, dep, s } end
  elseif s and s ~= 'completed' then
    pending[#pending + 1] = dep
  end
end
redis.call('HDEL', tk, 'fa', 'tok', 'w', 'st', 'nd')
redis.call('ZREM', k_dead, id)
if #pending > 0 then
  redis.call('HSET', tk, 's', 'blocked', 'a', 0)
  redis.call('SADD', k_blocked, id)
  for _, dep in ipairs(pending) do
    redis.call('SADD', k_pending, dep)
    redis.call('SADD', prefix .. 'dependents:' .. dep, id)
    redis.call('HSET', prefix .. 't:' .. dep, 'hd', 1)
  end
else
  redis.call('HSET', tk, 's', 'waiting', 'a', 0)
  push_ready(id, k_ready, f[2], f[3], f[6])
  redis.call('ZADD', k_marker, 0, 'r')
end
redis.call('SET', KEYS[7], 1, 'PX', ARGV[3])
return { 1 }
`);

/**
 * PURGE. KEYS: a finished-tasks zset (dead). ARGV: queue key prefix, batch. Removes up to `batch`
 * entries with their hashes and payloads; returns how many (the caller repeats until 0).
 */
export const PURGE = luaScript(`${COMMON}
prefix = ARGV[1]
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
if #ids == 0 then return 0 end
del_tasks(ids, 1, 1)
redis.call('ZREM', KEYS[1], unpack(ids))
return #ids
`);

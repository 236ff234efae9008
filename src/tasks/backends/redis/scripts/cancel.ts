import { luaScript } from '../../../../redis/scripts.js';
import { COMMON } from './common.js';

/**
 * CANCEL. KEYS: the task's hash, its pending set, ready, delayed, blocked, cancelled, dead,
 * marker, memo. ARGV: queue key prefix, channel, queue, id, completed count, completed age ms, dead
 * count, dead age ms, memo ms.
 *
 * Atomic: only a task that has not started (waiting, delayed, blocked) is cancelled; it leaves its
 * index, stops being a dependent of its own dependencies, and its dependents are settled as for a
 * dead dependency. Cancelled tasks are kept within the completed bounds (as in the memory
 * backend), the dependents it kills within the dead ones. Returns 1 or 0; a re-sent call the
 * first answer.
 */
export const CANCEL = luaScript(`${COMMON}
local seen = memo_get(KEYS[9])
if seen then return tonumber(seen) end
now = server_now()
prefix = ARGV[1]
local channel, queue, id = ARGV[2], ARGV[3], ARGV[4]
local tk, k_pending, k_ready, k_delayed, k_blocked, k_cancelled, k_dead, k_marker =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local f = redis.call('HMGET', tk, 's', 'n', 'g')
local s = f[1]
if s == 'waiting' then
  if f[3] then
    if redis.call('ZREM', gk('g:' .. f[3]), id) == 1 then g_took(f[3]) end
  else
    redis.call('ZREM', k_ready, id)
  end
elseif s == 'delayed' then
  redis.call('ZREM', k_delayed, id)
elseif s == 'blocked' then
  redis.call('SREM', k_blocked, id)
  for _, dep in ipairs(redis.call('SMEMBERS', k_pending)) do
    redis.call('SREM', prefix .. 'dependents:' .. dep, id)
  end
  redis.call('DEL', k_pending)
else
  redis.call('SET', KEYS[9], 0, 'PX', ARGV[9])
  return 0
end
redis.call('HSET', tk, 's', 'cancelled', 'fa', now)
redis.call('ZADD', k_cancelled, now, id)
local events = { { 'cancelled', id, f[2] } }
local _, killed = settle(id, 'cancelled', k_ready, k_delayed, k_blocked, k_dead, k_marker, events)
local keep_d, age_d = tonumber(ARGV[7]), tonumber(ARGV[8])
trim(k_cancelled, tonumber(ARGV[5]), tonumber(ARGV[6]), 34)
if #killed > 0 then trim(k_dead, keep_d, age_d, 2 * #killed + 32) end
publish(channel, queue, events)
redis.call('SET', KEYS[9], 1, 'PX', ARGV[9])
return 1
`);

import { luaScript } from '../../../../redis/scripts.js';
import { UNSTARTED_DELIVERIES } from '../../../errors.js';
import { COMMON } from './common.js';

/**
 * RENEW. KEYS: active, then the hash key of each lease's task. ARGV: leaseMs, then per lease: id,
 * token. Extends each lease still held under its token (its score in `active`) to the server's
 * time plus `leaseMs`; returns the ids whose lease was lost. A re-sent call extends them again.
 */
export const RENEW = luaScript(`${COMMON}
local lu = server_now() + tonumber(ARGV[1])
local lost = {}
for i = 2, #KEYS do
  local id, token = ARGV[i * 2 - 2], ARGV[i * 2 - 1]
  local f = redis.call('HMGET', KEYS[i], 's', 'tok')
  if f[1] == 'active' and f[2] == token then
    redis.call('ZADD', KEYS[1], lu, id)
  else
    lost[#lost + 1] = id
  end
end
return lost
`);

/**
 * RELEASE. KEYS: active, ready, marker, then the hash key of each lease's task. ARGV: per lease:
 * id, token. Each task still held under its token goes back to ready at its old place (same
 * score); an attempt whose start was recorded is not counted after all, and the token is cleared,
 * so the releasing worker can no longer finish it. A re-sent call finds the tokens gone.
 */
export const RELEASE = luaScript(`${COMMON}
local k_active, k_ready, k_marker = KEYS[1], KEYS[2], KEYS[3]
prefix = string.sub(k_active, 1, -7)
local any = false
for i = 4, #KEYS do
  local id, token = ARGV[i * 2 - 7], ARGV[i * 2 - 6]
  local f = redis.call('HMGET', KEYS[i], 's', 'tok', 'pr', 'sq', 'st', 'g')
  if f[1] == 'active' and f[2] == token then
    redis.call('HDEL', KEYS[i], 'tok', 'w', 'st')
    if f[5] == '1' then redis.call('HINCRBY', KEYS[i], 'a', -1) end
    redis.call('HSET', KEYS[i], 's', 'waiting')
    redis.call('ZREM', k_active, id)
    push_ready(id, k_ready, f[3], f[4], f[6])
    if f[6] then g_left(f[6]) end
    any = true
  end
end
if any then redis.call('ZADD', k_marker, 0, 'r') end
return 1
`);

const UNSTARTED_ERROR = JSON.stringify({
  name: UNSTARTED_DELIVERIES.name,
  code: UNSTARTED_DELIVERIES.code,
  message: UNSTARTED_DELIVERIES.message(UNSTARTED_DELIVERIES.limit),
});

/**
 * RECOVER. KEYS: active, ready, marker, delayed, blocked, dead. ARGV: queue key prefix, batch,
 * channel, queue, dead count, dead age ms. Tasks whose lease ended before the server's time go
 * back to ready at their old place, token cleared (a late finish from the lost worker is then
 * refused). A lost attempt whose start was recorded still counts; one that never started costs
 * nothing, but is counted as an unstarted delivery: the
 * ${UNSTARTED_DELIVERIES.limit}th such loss sends the task to the dead letter queue (see
 * `UNSTARTED_DELIVERIES`). At most `batch` per call; returns how many were recovered and whether
 * more expired leases may remain.
 */
export const RECOVER = luaScript(`${COMMON}
now = server_now()
prefix = ARGV[1]
local k_active, k_ready, k_marker, k_delayed, k_blocked, k_dead = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local expired = redis.call('ZRANGEBYSCORE', k_active, '-inf', '(' .. now, 'LIMIT', 0, tonumber(ARGV[2]))
local count, events, dead = 0, {}, 0
for _, id in ipairs(expired) do
  local tk = prefix .. 't:' .. id
  local f = redis.call('HMGET', tk, 's', 'pr', 'sq', 'st', 'n', 'hd', 'g')
  if f[1] == 'active' then
    if f[7] then g_left(f[7]) end
    redis.call('HDEL', tk, 'tok', 'w', 'st')
    local gone = 0
    if f[4] ~= '1' then gone = redis.call('HINCRBY', tk, 'nd', 1) end
    if gone >= ${UNSTARTED_DELIVERIES.limit} then
      redis.call('HSET', tk, 's', 'dead', 'fa', now, 'e', ${JSON.stringify(UNSTARTED_ERROR)})
      redis.call('ZADD', k_dead, now, id)
      events[#events + 1] = { 'dead', id, f[5] }
      dead = dead + 1
      if f[6] then
        local _, killed = settle(id, 'dead', k_ready, k_delayed, k_blocked, k_dead, k_marker, events)
        dead = dead + #killed
      end
    else
      redis.call('HSET', tk, 's', 'waiting')
      push_ready(id, k_ready, f[2], f[3], f[7])
      count = count + 1
    end
  end
end
if #expired > 0 then redis.call('ZREM', k_active, unpack(expired)) end
if count > 0 then redis.call('ZADD', k_marker, 0, 'r') end
if dead > 0 then trim(k_dead, tonumber(ARGV[5]), tonumber(ARGV[6]), 2 * dead + 32) end
publish(ARGV[3], ARGV[4], events)
return { count, #expired }
`);

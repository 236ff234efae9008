import { luaScript } from '../../../../redis/scripts.js';
import { COMMON } from './common.js';

/**
 * CLAIM. KEYS: ready, delayed, active, paused, marker, seq, memo. ARGV: max, leaseMs, workerId,
 * queue key prefix, most delayed tasks to promote, payloads inline (1/0), memo ms.
 *
 * Atomic: promotes due delayed tasks (bounded), pops up to `max` ready tasks, and for each one
 * writes a fresh fencing token (from `seq`) and the worker, and indexes it in `active` by lease
 * expiry (the lease end lives only there). The attempt is not counted here: it counts once the
 * worker records that its handler started (FINISH), so tasks claimed ahead of a free slot cost
 * nothing when their worker dies. When ready tasks are left it sets the `r` marker, so that another
 * waiting worker wakes up too (one wake-up chains to the next instead of waking every worker on
 * every add). Returns one flat list, {@link CLAIM_FIELDS} entries per task: id, token, the number
 * this attempt will have, then name, meta, priority, runAt, failOnDependencyFailure, last error
 * and last progress as stored (nil when absent), and with payloads inline the payload. Flat and
 * without field names: every element costs Redis and the client a conversion. Without payloads
 * inline the caller reads them natively (`MGET` of their `p:<id>` keys): less work for Redis than
 * carrying them through Lua, one more round trip.
 *
 * The memo holds the lease end and the token range of the claim: a re-sent claim finds its tasks
 * again in `active` (same score, tokens in range, still unstarted) and returns them rather than
 * popping others while these wait for their lease to expire.
 */
export const CLAIM_FIELDS = 10;

export const CLAIM = luaScript(`${COMMON}
now = server_now()
prefix = ARGV[4]
local k_ready, k_delayed, k_active, k_paused, k_marker, k_seq, k_memo =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local max, worker = tonumber(ARGV[1]), ARGV[3]
local inline = ARGV[6] == '1'
local out, o = {}, 0

local function row(id, token, f)
  out[o + 1], out[o + 2], out[o + 3], out[o + 4], out[o + 5] = id, token, (tonumber(f[6]) or 0) + 1, f[1], f[2]
  out[o + 6], out[o + 7], out[o + 8], out[o + 9], out[o + 10] = f[3], f[4], f[5], f[7], f[8]
  o = o + 10
  if inline then
    out[o + 1] = redis.call('GET', prefix .. 'p:' .. id)
    o = o + 1
  end
end

local seen = memo_get(k_memo)
if seen then
  local lu, first, last = string.match(seen, '^(%d+) (%d+) (%d+)$')
  first, last = tonumber(first), tonumber(last)
  local mine = {}
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', k_active, lu, lu)) do
    local tk = prefix .. 't:' .. id
    local g = redis.call('HMGET', tk, 's', 'tok', 'st')
    local tok = tonumber(g[2])
    if g[1] == 'active' and g[3] ~= '1' and tok ~= nil and tok > first and tok <= last then
      mine[#mine + 1] = { tok, id }
    end
  end
  table.sort(mine, function(x, y) return x[1] < y[1] end)
  for _, m in ipairs(mine) do
    row(m[2], m[1], redis.call('HMGET', prefix .. 't:' .. m[2], 'n', 'm', 'pr', 'ra', 'ff', 'a', 'e', 'pg'))
  end
  return out
end

if redis.call('EXISTS', k_paused) == 1 then return {} end
local lu = now + tonumber(ARGV[2])

local due = redis.call('ZRANGEBYSCORE', k_delayed, '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
if #due > 0 then
  for _, id in ipairs(due) do
    local tk = prefix .. 't:' .. id
    local f = redis.call('HMGET', tk, 'pr', 'sq')
    if f[2] then
      redis.call('HSET', tk, 's', 'waiting')
      redis.call('ZADD', k_ready, score_of(f[1], f[2]), id)
    end
  end
  redis.call('ZREM', k_delayed, unpack(due))
end

local popped = redis.call('ZPOPMIN', k_ready, max)
if #popped > 0 then
  local count = #popped / 2
  local token = redis.call('INCRBY', k_seq, count) - count
  local first = token
  local leases = {}
  for i = 1, #popped, 2 do
    local id = popped[i]
    local tk = prefix .. 't:' .. id
    local f = redis.call('HMGET', tk, 'n', 'm', 'pr', 'ra', 'ff', 'a', 'e', 'pg')
    -- A member whose hash is gone (removed by hand) is dropped rather than resurrected.
    if f[1] then
      token = token + 1
      redis.call('HSET', tk, 's', 'active', 'w', worker, 'tok', token, 'st', 0)
      leases[#leases + 1] = lu
      leases[#leases + 1] = id
      row(id, token, f)
    end
  end
  bulk('ZADD', k_active, leases)
  redis.call('SET', k_memo, lu .. ' ' .. first .. ' ' .. token, 'PX', ARGV[7])
end
if redis.call('ZCARD', k_ready) > 0 then
  redis.call('ZADD', k_marker, 0, 'r')
else
  local next_due = redis.call('ZRANGE', k_delayed, 0, 0, 'WITHSCORES')
  if #next_due > 0 then redis.call('ZADD', k_marker, 'LT', next_due[2], 'd') end
end
return out
`);

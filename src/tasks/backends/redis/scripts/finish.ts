import { luaScript } from '../../../../redis/scripts.js';
import { COMMON } from './common.js';

/**
 * FINISH. KEYS: active, ready, delayed, completed, dead, blocked, marker, memo, then the hash key
 * of each started lease, then of each outcome's task. ARGV: queue key prefix, channel, queue,
 * completed count, completed age ms, dead count, dead age ms, memo ms, number of started leases,
 * the caller's clock (ms), then per started lease: id, token; then per outcome: kind (`c`
 * completed with a result, `n` completed without, `r` retry, `d` dead, `l` rate-limited), id, token,
 * data (result, error JSON, or for `l` how long the task's group or queue waits, ms), time (finishedAt, or the retry's runAt; moved onto the server's clock when the
 * caller's is more than a second off, as in ADD).
 *
 * Atomic per call. Started leases first: each still held under its token and not yet started
 * counts its attempt. Then each outcome is applied only while its task is still `active` under the
 * same token (fencing: a worker whose lease was recovered and handed to another cannot complete it);
 * an outcome whose start was not recorded yet counts its attempt too. Dependents are settled,
 * retention is applied to what this call added to, and one event message is published. Returns per
 * outcome: accepted (1/0), released count, released ids, killed count, killed ids; a re-sent call
 * returns the first answer (`*` in the memo: every outcome accepted, no dependent touched).
 */
export const FINISH = luaScript(`${COMMON}
now = server_now()
prefix = ARGV[1]
local channel, queue = ARGV[2], ARGV[3]
local keep_c, age_c, keep_d, age_d = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local memo_ms, ns = ARGV[8], tonumber(ARGV[9])
local skew = now - tonumber(ARGV[10])
if math.abs(skew) < 1000 then skew = 0 end
local k_active, k_ready, k_delayed, k_completed, k_dead, k_blocked, k_marker, k_memo =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local n = (#ARGV - 10 - 2 * ns) / 5

-- An outcome whose start was not recorded counts its attempt, in the same HSET.
local function with_start(f, fields)
  if f[5] ~= '1' then
    fields[#fields + 1] = 'a'; fields[#fields + 1] = (tonumber(f[6]) or 0) + 1
    fields[#fields + 1] = 'sa'; fields[#fields + 1] = now
  end
  return unpack(fields)
end

local seen = memo_get(k_memo)
if seen then
  if seen ~= '*' then return cjson.decode(seen) end
  local out = {}
  for i = 1, n * 3, 3 do out[i], out[i + 1], out[i + 2] = 1, 0, 0 end
  return out
end

for i = 0, ns - 1 do
  local tk, token = KEYS[9 + i], ARGV[12 + 2 * i]
  local f = redis.call('HMGET', tk, 's', 'tok', 'st')
  if f[1] == 'active' and f[2] == token and f[3] ~= '1' then
    redis.call('HINCRBY', tk, 'a', 1)
    redis.call('HSET', tk, 'st', 1, 'sa', now)
  end
end

local out, events = {}, {}
local unleased, completed, dead = {}, {}, {}
local retried_now, min_delay, plain = false, nil, true
for i = 0, n - 1 do
  local a = 11 + 2 * ns + i * 5
  local kind, id, token, data = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local time = tonumber(ARGV[a + 4]) + skew
  local tk = KEYS[9 + ns + i]
  local f = redis.call('HMGET', tk, 's', 'tok', 'n', 'hd', 'st', 'a', 'g')
  if f[1] ~= 'active' or f[2] ~= token then
    out[#out + 1] = 0
    out[#out + 1] = 0
    out[#out + 1] = 0
    plain = false
  else
    -- The worker, lease and token fields stay (fewer calls): the state alone says the lease is
    -- over, and a later claim overwrites them.
    unleased[#unleased + 1] = id
    local released, killed = {}, {}
    if kind == 'l' then
      -- The remote side refused: no attempt spent, the group (or queue) waits.
      local untl = limited(id, tk, k_ready, f[7], tonumber(data) or 1000)
      if min_delay == nil or untl < min_delay then min_delay = untl end
      events[#events + 1] = { 'retry', id, f[3] }
      plain = false
    elseif kind == 'c' or kind == 'n' then
      if kind == 'c' then
        redis.call('HSET', tk, with_start(f, { 's', 'completed', 'fa', time, 'r', data }))
      else
        redis.call('HSET', tk, with_start(f, { 's', 'completed', 'fa', time }))
      end
      completed[#completed + 1] = time
      completed[#completed + 1] = id
      events[#events + 1] = { 'completed', id, f[3] }
      if f[4] then
        released, killed = settle(id, 'completed', k_ready, k_delayed, k_blocked, k_dead, k_marker, events)
      end
    elseif kind == 'r' then
      local ra = time
      if ra > now then
        redis.call('HSET', tk, with_start(f, { 's', 'delayed', 'e', data, 'ra', ra }))
        redis.call('ZADD', k_delayed, ra, id)
        if min_delay == nil or ra < min_delay then min_delay = ra end
      else
        local g = redis.call('HMGET', tk, 'pr', 'sq')
        redis.call('HSET', tk, with_start(f, { 's', 'waiting', 'e', data }))
        push_ready(id, k_ready, g[1], g[2], f[7])
        retried_now = true
      end
      events[#events + 1] = { 'retry', id, f[3] }
    else
      redis.call('HSET', tk, with_start(f, { 's', 'dead', 'fa', time, 'e', data }))
      -- Indexed at once (not batched): a dependent killed below must come after it.
      redis.call('ZADD', k_dead, time, id)
      dead[#dead + 1] = id
      events[#events + 1] = { 'dead', id, f[3] }
      if f[4] then
        released, killed = settle(id, 'dead', k_ready, k_delayed, k_blocked, k_dead, k_marker, events)
      end
    end
    -- A freed slot can make a capped group eligible again (wake the pools); without caps a finish
    -- changes no group's turn, so it does no group work at all.
    if kind ~= 'l' and f[7] and g_tracking() then
      g_left(f[7])
      if redis.call('EXISTS', gk('gring')) == 1 then retried_now = true end
    end
    for _, d in ipairs(killed) do dead[#dead + 1] = d end
    if #released > 0 or #killed > 0 then plain = false end
    out[#out + 1] = 1
    out[#out + 1] = #released
    for _, r in ipairs(released) do out[#out + 1] = r end
    out[#out + 1] = #killed
    for _, r in ipairs(killed) do out[#out + 1] = r end
  end
end
bulk('ZREM', k_active, unleased)
bulk('ZADD', k_completed, completed)
if retried_now then redis.call('ZADD', k_marker, 0, 'r') end
if min_delay ~= nil then redis.call('ZADD', k_marker, 'LT', min_delay, 'd') end
if #completed > 0 then trim(k_completed, keep_c, age_c, #completed + 32) end
if #dead > 0 then trim(k_dead, keep_d, age_d, 2 * #dead + 32) end
publish(channel, queue, events)
if n > 0 then redis.call('SET', k_memo, plain and '*' or cjson.encode(out), 'PX', memo_ms) end
return out
`);

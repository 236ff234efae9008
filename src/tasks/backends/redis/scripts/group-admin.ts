import { luaScript } from '../../../../redis/scripts.js';
import { COMMON } from './common.js';

/**
 * GROUP_SET. KEYS: marker. ARGV: queue key prefix, action (`pause`, `resume`, `group`, `queue`),
 * then per action: the group; the group; the group, weight, maxConcurrency; or queue limit,
 * queue window ms, group cap, group limit, group window ms, shared limit name, shared limit, shared window ms (0 or
 * empty: none). Atomic: a group paused leaves
 * the ring, one resumed or given a higher cap joins it again (and wakes a waiting worker).
 */
export const GROUP_SET = luaScript(`${COMMON}
now = server_now()
prefix = ARGV[1]
local action, g = ARGV[2], ARGV[3]
local cfg = gk('cfg')
if action == 'pause' then
  redis.call('SADD', gk('gpaused'), g)
  redis.call('ZREM', gk('gring'), g)
  return 1
elseif action == 'resume' then
  redis.call('SREM', gk('gpaused'), g)
  g_join(g)
elseif action == 'group' then
  local w, m = tonumber(ARGV[4]), tonumber(ARGV[5])
  if w == 1 then redis.call('HDEL', cfg, 'w:' .. g) else redis.call('HSET', cfg, 'w:' .. g, w) end
  if m < 0 then redis.call('HDEL', cfg, 'm:' .. g) else redis.call('HSET', cfg, 'm:' .. g, m) end
  if not g_eligible(g) then redis.call('ZREM', gk('gring'), g) else g_join(g) end
else
  local fields = { 'qlim', 'qper', 'gmax', 'glim', 'gper', 'sname', 'slim', 'sper' }
  for i, f in ipairs(fields) do
    local v = ARGV[3 + i]
    if f ~= 'sname' then v = tonumber(v) end
    if (f == 'sname' and v ~= '') or (f ~= 'sname' and v > 0) then
      redis.call('HSET', cfg, f, v)
    else
      redis.call('HDEL', cfg, f)
    end
  end
  -- The cap changed for every group: each with ready work is placed again.
  for _, name in ipairs(redis.call('HKEYS', gk('gdepth'))) do
    if not g_eligible(name) then redis.call('ZREM', gk('gring'), name) else g_join(name) end
  end
end
if redis.call('EXISTS', gk('gring')) == 1 then redis.call('ZADD', KEYS[1], 0, 'r') end
return 1
`);

/**
 * GROUP_LIST. ARGV: queue key prefix, limit. Returns the number of groups, their waiting and
 * active tasks in all, the stored limits (queue limit, window, group cap, group limit, window,
 * shared limit name, limit, window; empty when unset), then per group (the
 * deepest first, at most `limit`): name, waiting, active, paused (1/0), limited until (0: not),
 * weight, maxConcurrency.
 */
export const GROUP_LIST = luaScript(`${COMMON}
now = server_now()
prefix = ARGV[1]
local limit = tonumber(ARGV[2])
local seen, list = {}, {}
local function add(g, depth)
  if seen[g] then return end
  seen[g] = true
  list[#list + 1] = { g, depth }
end
local d = redis.call('HGETALL', gk('gdepth'))
for i = 1, #d, 2 do add(d[i], tonumber(d[i + 1])) end
local a = redis.call('HKEYS', gk('gactive'))
for _, g in ipairs(a) do add(g, 0) end
for _, g in ipairs(redis.call('SMEMBERS', gk('gpaused'))) do add(g, 0) end
for _, g in ipairs(redis.call('ZRANGE', gk('glimited'), 0, -1)) do add(g, 0) end
table.sort(list, function(x, y) if x[2] ~= y[2] then return x[2] > y[2] end return x[1] < y[1] end)
local sum_w, sum_a = 0, 0
for _, e in ipairs(list) do sum_w = sum_w + e[2] end
for _, v in ipairs(redis.call('HVALS', gk('gactive'))) do sum_a = sum_a + tonumber(v) end
local c = redis.call('HMGET', gk('cfg'), 'qlim', 'qper', 'gmax', 'glim', 'gper', 'sname', 'slim', 'sper')
local out = { #list, sum_w, sum_a }
for i = 1, 8 do out[#out + 1] = c[i] or '' end
for i = 1, math.min(limit, #list) do
  local g = list[i][1]
  local cap, w = g_cfg(g)
  local untl = tonumber(redis.call('ZSCORE', gk('glimited'), g)) or 0
  if untl <= now then untl = 0 end
  out[#out + 1] = g
  out[#out + 1] = list[i][2]
  out[#out + 1] = tonumber(redis.call('HGET', gk('gactive'), g)) or 0
  out[#out + 1] = redis.call('SISMEMBER', gk('gpaused'), g)
  out[#out + 1] = string.format('%.0f', untl)
  out[#out + 1] = tostring(w)
  out[#out + 1] = cap
end
return out
`);

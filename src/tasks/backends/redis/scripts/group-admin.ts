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

-- The groups a change of settings may move in or out of the ring: those in it, and those out of
-- it with work (paused, waiting out a limit, or at their cap: those hold tasks).
local function candidates()
  local seen, list = {}, {}
  local function add(name)
    if name ~= '' and not seen[name] then
      seen[name] = true
      list[#list + 1] = name
    end
  end
  for _, name in ipairs(redis.call('ZRANGE', gk('gring'), 0, -1)) do add(name) end
  for _, name in ipairs(redis.call('SMEMBERS', gk('gpaused'))) do add(name) end
  for _, name in ipairs(redis.call('ZRANGE', gk('glimited'), 0, -1)) do add(name) end
  for _, name in ipairs(redis.call('HKEYS', gk('gactive'))) do add(name) end
  return list
end

-- Sets the \`cap\` and \`wts\` flags from the settings stored. Held tasks are counted per group
-- only while some group has a cap: when the first cap appears they are counted once from \`active\`.
local function flags()
  local all = redis.call('HGETALL', cfg)
  local cap, wts = false, false
  for i = 1, #all, 2 do
    local f, v = all[i], tonumber(all[i + 1])
    if (f == 'gmax' or string.sub(f, 1, 2) == 'm:') and v and v > 0 then cap = true end
    if string.sub(f, 1, 2) == 'w:' then wts = true end
  end
  local was = redis.call('HGET', cfg, 'cap') == '1'
  if cap and not was then
    redis.call('DEL', gk('gactive'))
    for _, id in ipairs(redis.call('ZRANGE', gk('active'), 0, -1)) do
      local t = redis.call('HMGET', gk('t:' .. id), 's', 'g')
      if t[1] == 'active' and t[2] then redis.call('HINCRBY', gk('gactive'), t[2], 1) end
    end
  elseif was and not cap then
    redis.call('DEL', gk('gactive'))
  end
  if cap then redis.call('HSET', cfg, 'cap', 1) else redis.call('HDEL', cfg, 'cap') end
  if wts then redis.call('HSET', cfg, 'wts', 1) else redis.call('HDEL', cfg, 'wts') end
  g_tracked = cap
end

local function place(name)
  if not g_eligible(name) then redis.call('ZREM', gk('gring'), name) else g_join(name) end
end

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
  local was, list = g_tracking(), candidates()
  flags()
  -- Counting started or stopped: every group's place may change.
  if was ~= g_tracked then
    for _, name in ipairs(list) do place(name) end
  end
  place(g)
else
  local list = candidates()
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
  flags()
  -- The cap changed for every group: each with ready work is placed again.
  for _, name in ipairs(list) do place(name) end
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
-- Held tasks per group: counted while some group has a cap, else read from \`active\` (a listing
-- comes once in a while; claims and finishes come with every task).
local held = {}
if g_tracking() then
  local a = redis.call('HGETALL', gk('gactive'))
  for i = 1, #a, 2 do held[a[i]] = tonumber(a[i + 1]) end
else
  for _, id in ipairs(redis.call('ZRANGE', gk('active'), 0, -1)) do
    local t = redis.call('HMGET', gk('t:' .. id), 's', 'g')
    if t[1] == 'active' and t[2] then held[t[2]] = (held[t[2]] or 0) + 1 end
  end
end
local paused, limited = {}, {}
for _, g in ipairs(redis.call('SMEMBERS', gk('gpaused'))) do paused[g] = true end
-- Every group waiting out a limit (one whose wait just ended has not joined the ring yet).
local l = redis.call('ZRANGE', gk('glimited'), 0, -1, 'WITHSCORES')
for i = 1, #l, 2 do limited[l[i]] = tonumber(l[i + 1]) end
local seen, list = {}, {}
local function add(g)
  if g == '' or seen[g] then return end
  seen[g] = true
  local depth = redis.call('ZCARD', gk('g:' .. g))
  local untl = limited[g] or 0
  if untl <= now then untl = 0 end
  -- A group stays in the ring a while after its last task left: listed only while it matters.
  if depth > 0 or (held[g] or 0) > 0 or paused[g] or untl > 0 then
    list[#list + 1] = { g, depth, untl }
  end
end
for _, g in ipairs(redis.call('ZRANGE', gk('gring'), 0, -1)) do add(g) end
for g in pairs(held) do add(g) end
for g in pairs(paused) do add(g) end
for g in pairs(limited) do add(g) end
table.sort(list, function(x, y) if x[2] ~= y[2] then return x[2] > y[2] end return x[1] < y[1] end)
local sum_w, sum_a = 0, 0
for _, e in ipairs(list) do sum_w = sum_w + e[2] end
for _, v in pairs(held) do sum_a = sum_a + v end
local c = redis.call('HMGET', gk('cfg'), 'qlim', 'qper', 'gmax', 'glim', 'gper', 'sname', 'slim', 'sper')
local out = { #list, sum_w, sum_a }
for i = 1, 8 do out[#out + 1] = c[i] or '' end
for i = 1, math.min(limit, #list) do
  local g = list[i][1]
  local cap, w = g_cfg(g)
  out[#out + 1] = g
  out[#out + 1] = list[i][2]
  out[#out + 1] = held[g] or 0
  out[#out + 1] = paused[g] and 1 or 0
  out[#out + 1] = string.format('%.0f', list[i][3])
  out[#out + 1] = tostring(w)
  out[#out + 1] = cap
end
return out
`);

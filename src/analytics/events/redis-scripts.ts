import { luaScript } from '../../redis/scripts.js';

// The scripts of RedisAnalyticsStore. Every key they touch is declared in KEYS and carries the
// store's hash tag, so they run on a Cluster. Numbers going back to Redis are formatted with
// %.0f: Lua's tostring keeps 14 digits, too few for epoch milliseconds.

/**
 * One batch, atomically and once: KEYS[1] is the batch's marker (SET NX PX: a batch sent again
 * after a lost reply changes nothing); ARGV[1] a JSON document of what to fold, built by
 * redis-plan.ts: `c` counts (HINCRBY per hour and event), `u` users per day (PFADD), `r` cohort
 * activity, `f` funnel hits. The cohort and funnel steps are progress.ts in Lua.
 */
export const RECORD = luaScript(`
local spec = cjson.decode(ARGV[1])
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', spec.m) then return 0 end
for _, c in ipairs(spec.c) do
  local key = KEYS[c[1]]
  for i = 3, #c, 2 do redis.call('HINCRBY', key, c[i], c[i + 1]) end
  redis.call('EXPIREAT', key, c[2])
end
for _, u in ipairs(spec.u) do
  local key = KEYS[u[1]]
  for i = 3, #u, 1000 do redis.call('PFADD', key, unpack(u, i, math.min(i + 999, #u))) end
  redis.call('EXPIREAT', key, u[2])
end
local r = spec.r
if r then
  local function count(cohort, offset)
    if cohort < r.b or cohort > r.e then return end
    local key = KEYS[r.k + cohort - r.b]
    redis.call('HINCRBY', key, offset, 1)
    redis.call('EXPIREAT', key, string.format('%.0f', (cohort + r.w) * 604800 - 259200))
  end
  for _, a in ipairs(r.a) do
    local key = KEYS[a[1]]
    local cohort, mask
    local value = redis.call('GET', key)
    if value then
      local sep = string.find(value, ':', 1, true)
      cohort = tonumber(string.sub(value, 1, sep - 1))
      mask = string.sub(value, sep + 1)
      if #mask < r.w then mask = mask .. string.rep('0', r.w - #mask) end
    end
    local changed = false
    for i = 2, #a, 2 do
      local week, flags = a[i], a[i + 1]
      if not cohort then
        if flags % 2 == 1 then
          cohort = week
          mask = '1' .. string.rep('0', r.w - 1)
          changed = true
          count(cohort, 0)
        end
      else
        local offset = week - cohort
        if offset >= 1 and offset < r.w and flags >= 2 and string.sub(mask, offset + 1, offset + 1) == '0' then
          mask = string.sub(mask, 1, offset) .. '1' .. string.sub(mask, offset + 2)
          changed = true
          count(cohort, offset)
        end
      end
    end
    if changed then
      redis.call('SET', key, string.format('%.0f', cohort) .. ':' .. mask, 'EXAT',
        string.format('%.0f', (cohort + r.w) * 604800 - 259200))
    end
  end
end
for _, f in ipairs(spec.f) do
  local states, order, touched, dirty = {}, {}, {}, {}
  for _, h in ipairs(f.h) do
    local ki, user, at = h[1], h[2], h[3]
    local st = states[ki]
    if not st then
      st = {}
      for i = 1, f.n do st[i] = 0 end
      local value = redis.call('GET', KEYS[ki])
      if value then
        local i = 1
        for part in string.gmatch(value, '[^,]+') do
          if i <= f.n then st[i] = tonumber(part) or 0 end
          i = i + 1
        end
      end
      states[ki] = st
      order[#order + 1] = ki
    end
    for j = 4, #h do
      local step = h[j]
      local start = at
      local ok = true
      if step > 1 then
        local previous = st[step - 1]
        if previous <= 0 or previous > at or at - previous > f.w then ok = false else start = previous end
      end
      if ok and start > st[step] then
        st[step] = start
        dirty[ki] = true
        local day = math.floor(start / 86400000)
        if day >= f.d and day <= f.e then
          local rk = f.k + (day - f.d) * f.n + step - 1
          redis.call('SADD', KEYS[rk], user)
          touched[rk] = day
        end
      end
    end
  end
  for rk, day in pairs(touched) do
    redis.call('EXPIREAT', KEYS[rk], string.format('%.0f', (day + 1) * 86400 + f.x))
  end
  for _, ki in ipairs(order) do
    if dirty[ki] then
      local st, parts = states[ki], {}
      for i = 1, f.n do parts[i] = string.format('%.0f', st[i]) end
      redis.call('SET', KEYS[ki], table.concat(parts, ','), 'PX', f.px)
    end
  end
end
return 1
`);

/**
 * The distinct users of each funnel step over several days: KEYS[1] a scratch key, then the
 * day sets of step 1, of step 2, ... (ARGV[2] days each); SUNIONSTORE and SCARD per step.
 */
export const FUNNEL_COUNT = luaScript(`
local steps, days = tonumber(ARGV[1]), tonumber(ARGV[2])
local out = {}
for i = 1, steps do
  local first = 2 + (i - 1) * days
  redis.call('SUNIONSTORE', KEYS[1], unpack(KEYS, first, first + days - 1))
  out[i] = redis.call('SCARD', KEYS[1])
end
redis.call('DEL', KEYS[1])
return out
`);

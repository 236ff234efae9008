/*
 * Groups and rate limits, in Lua shared by every script (see ./common.ts, which includes it).
 *
 * Keys (all under the queue's prefix `Q`, so in the queue's Cluster slot):
 * - `Q g:<group>`   zset: the group's ready tasks, scored as `Q ready` (priority, then FIFO);
 * - `Q gwait`       ready tasks over every group (for the queue's counts);
 * - `Q gring`       zset: the groups a claim may take from now, scored by their "pass": each take
 *                   adds `1 / weight` to the group's pass and claims take the lowest passes, so
 *                   groups with work get turns in proportion to their weights (stride
 *                   scheduling); member `''` stands for the ungrouped tasks of `Q ready` while
 *                   grouped work exists. A group whose last ready task was taken stays in the ring
 *                   until a claim comes to it and finds it empty: knowing it at once would cost
 *                   every take a command;
 * - `Q gvt`         the pass of the last take: a group (re)joining the ring starts there, so it
 *                   neither jumps ahead of the others nor waits behind their history;
 * - `Q gactive`     hash: group -> tasks held by workers, kept only while some group has a
 *                   `maxConcurrency` (`cap` in `Q cfg`): without caps nothing reads it, and
 *                   counting would cost every claim and every finish;
 * - `Q gpaused`     set of paused groups; `Q glimited` zset: group -> until when it waits (rate
 *                   limit reached, or a handler reported the remote side's limit);
 * - `Q cfg`         hash: `gmax` default maxConcurrency per group, `glim`/`gper` the limit per
 *                   group, `qlim`/`qper` the queue's limit, `m:<group>` and `w:<group>` one group's
 *                   maxConcurrency and weight; `cap` (1: some group has a cap) and `wts` (1: some
 *                   group has a weight), so that a claim reads a group's settings only when any
 *                   exist;
 * - `Q qr:<window>`, `Q gr:<group>:<window>`: starts counted in one window of the queue's, or a
 *                   group's, limit (expire after two windows); `Q qlimited`: the queue waits
 *                   until this key expires.
 * Windows are fixed and aligned on the server's clock: window `w` is `[w * per, (w + 1) * per)`.
 */
export const GROUPS_LUA = `
local function gk(name) return prefix .. name end

local function g_cfg(g)
  local f = redis.call('HMGET', gk('cfg'), 'm:' .. g, 'gmax', 'w:' .. g)
  return tonumber(f[1] or f[2]) or 0, tonumber(f[3]) or 1
end

-- Whether held tasks are counted per group (some group has a cap); read once per script call.
local g_tracked = nil
local function g_tracking()
  if g_tracked == nil then g_tracked = redis.call('HGET', gk('cfg'), 'cap') == '1' end
  return g_tracked
end

-- Whether a claim may take from group g now (not paused, not waiting out a limit, below its cap).
local function g_eligible(g)
  if redis.call('SISMEMBER', gk('gpaused'), g) == 1 then return false end
  if redis.call('ZSCORE', gk('glimited'), g) then return false end
  if not g_tracking() then return true end
  local max = g_cfg(g)
  if max > 0 and (tonumber(redis.call('HGET', gk('gactive'), g)) or 0) >= max then return false end
  return true
end

-- Puts group g in the ring when it has ready work (\`has_work\`: known to), may run and is not
-- there yet.
local function g_join(g, has_work)
  if redis.call('ZSCORE', gk('gring'), g) then return end
  if not has_work and redis.call('EXISTS', gk('g:' .. g)) == 0 then return end
  if not g_eligible(g) then return end
  redis.call('ZADD', gk('gring'), tonumber(redis.call('GET', gk('gvt'))) or 0, g)
end

-- Makes task id ready: in its group's zset when it has one, else in \`ready\`.
local function push_ready(id, k_ready, pr, sq, g)
  if g and g ~= '' then
    if redis.call('ZADD', gk('g:' .. g), score_of(pr, sq), id) == 1 then
      redis.call('INCR', gk('gwait'))
    end
    g_join(g, true)
  else
    redis.call('ZADD', k_ready, score_of(pr, sq), id)
  end
end

-- A ready task of group g left its zset other than by a claim (cancelled).
local function g_took(g)
  redis.call('DECR', gk('gwait'))
  if redis.call('EXISTS', gk('g:' .. g)) == 0 then redis.call('ZREM', gk('gring'), g) end
end

-- A task of group g is no longer held by a worker: below its cap again, the group may take its
-- turns again.
local function g_left(g)
  if not g or g == '' or not g_tracking() then return end
  if redis.call('HINCRBY', gk('gactive'), g, -1) <= 0 then redis.call('HDEL', gk('gactive'), g) end
  g_join(g)
end

-- Group g waits until \`untl\` (server ms): out of the ring meanwhile.
local function g_wait(g, untl)
  redis.call('ZREM', gk('gring'), g)
  redis.call('ZADD', gk('glimited'), 'GT', untl, g)
end

-- Groups whose wait is over join the ring again.
local function g_wake()
  local due = redis.call('ZRANGEBYSCORE', gk('glimited'), '-inf', now)
  if #due == 0 then return end
  redis.call('ZREMRANGEBYSCORE', gk('glimited'), '-inf', now)
  for _, g in ipairs(due) do g_join(g) end
end

-- Room left in the current window of limit (lim, per) whose counters start with \`base\`: how many
-- more may start, when the window ends and its counter key (see window_use).
local function window_room(base, lim, per)
  local w = math.floor(now / per)
  local key = base .. w
  return lim - (tonumber(redis.call('GET', key)) or 0), (w + 1) * per, key
end

local function window_use(key, n, per)
  if redis.call('INCRBY', key, n) == n then redis.call('PEXPIRE', key, 2 * per) end
end

-- A task handed back because the remote side rate-limited it: ready again at its place, the
-- attempt not counted, and its group (or, ungrouped, the whole queue) waits \`ms\`.
local function limited(id, tk, k_ready, f_g, ms)
  local h = redis.call('HMGET', tk, 'pr', 'sq', 'st')
  if h[3] == '1' then redis.call('HINCRBY', tk, 'a', -1) end
  redis.call('HDEL', tk, 'tok', 'w', 'st')
  redis.call('HSET', tk, 's', 'waiting')
  if f_g and f_g ~= '' then
    g_wait(f_g, now + ms)
    if g_tracking() and redis.call('HINCRBY', gk('gactive'), f_g, -1) <= 0 then
      redis.call('HDEL', gk('gactive'), f_g)
    end
    push_ready(id, k_ready, h[1], h[2], f_g)
    return now + ms
  end
  redis.call('SET', gk('qlimited'), 1, 'PX', ms)
  redis.call('ZADD', k_ready, score_of(h[1], h[2]), id)
  return now + ms
end
`;

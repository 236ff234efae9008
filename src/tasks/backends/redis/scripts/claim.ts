import { luaScript } from '../../../../redis/scripts.js';
import { COMMON } from './common.js';

/**
 * CLAIM. KEYS: ready, delayed, active, paused, marker, seq, memo. ARGV: max, leaseMs, workerId,
 * queue key prefix, most delayed tasks to promote, payloads inline (1/0), memo ms, and until when a
 * shared limit has no room (server ms; 0: none or room left, `max` then bounded by it).
 *
 * Atomic: promotes due delayed tasks (bounded), pops up to `max` ready tasks, and for each one
 * writes a fresh fencing token (from `seq`) and the worker, and indexes it in `active` by lease
 * expiry (the lease end lives only there). The attempt is not counted here: it counts once the
 * worker records that its handler started (FINISH), so tasks claimed ahead of a free slot cost
 * nothing when their worker dies. When ready tasks are left it sets the `r` marker, so that another
 * waiting worker wakes up too (one wake-up chains to the next instead of waking every worker on
 * every add). Returns one flat list, {@link CLAIM_FIELDS} entries per task: id, token, the number
 * this attempt will have, then name, meta, priority, runAt, failOnDependencyFailure, last error,
 * last progress and group as stored (nil when absent), and with payloads inline the payload; then, last, the
 * queue's shared limit as stored (name, limit, window; empty when none: the caller learns it from
 * here, with no command of its own) and the server's time of the claim (each task's `startedAt`). Flat and without field names: every element costs Redis and the client a conversion. Without
 * payloads inline the caller reads them natively (`MGET` of their `p:<id>` keys): less work for
 * Redis than carrying them through Lua, one more round trip.
 *
 * Groups (see ./groups.ts): while no grouped task is ready (no ring), a claim pops `ready` as it
 * always did. Otherwise the tasks come from the ring's lowest passes (the ungrouped tasks taking
 * turns as one more group), so groups share the workers whatever their depth: a claim of n tasks
 * pops the n lowest passes at once, takes one task from each and puts them back with their next
 * pass in one command, so that a take costs Redis about one command more than an ungrouped one. The queue's limit
 * bounds how many a claim takes in the current window; a group out of room in its window, or
 * waiting after a reported limit, leaves the ring until it may run again. When work is left but
 * nothing may start now, the marker carries the time it may (`d`) rather than `r`, so waiting
 * workers sleep until then instead of spinning.
 *
 * The memo holds the lease end and the token range of the claim: a re-sent claim finds its tasks
 * again in `active` (same score, tokens in range, still unstarted) and returns them rather than
 * popping others while these wait for their lease to expire.
 */
export const CLAIM_FIELDS = 11;

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
  out[o + 11] = f[9]
  o = o + 11
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
    row(m[2], m[1], redis.call('HMGET', prefix .. 't:' .. m[2], 'n', 'm', 'pr', 'ra', 'ff', 'a', 'e', 'pg', 'g'))
  end
  out[o + 1], out[o + 2], out[o + 3], out[o + 4] = '', '', '', now
  return out
end

if redis.call('EXISTS', k_paused) == 1 then return { '', '', '', now } end
local lu = now + tonumber(ARGV[2])

local due = redis.call('ZRANGEBYSCORE', k_delayed, '-inf', now, 'LIMIT', 0, tonumber(ARGV[5]))
if #due > 0 then
  for _, id in ipairs(due) do
    local tk = prefix .. 't:' .. id
    local f = redis.call('HMGET', tk, 'pr', 'sq', 'g')
    if f[2] then
      redis.call('HSET', tk, 's', 'waiting')
      push_ready(id, k_ready, f[1], f[2], f[3])
    end
  end
  redis.call('ZREM', k_delayed, unpack(due))
end

local k_ring = gk('gring')
local cfg = redis.call('HMGET', gk('cfg'), 'qlim', 'qper', 'glim', 'gper', 'sname', 'slim', 'sper', 'cap', 'wts')
if redis.call('EXISTS', gk('glimited')) == 1 then g_wake() end
-- Until when nothing may start (the queue waits out a limit), if it must.
local hold = nil
local qwait = redis.call('PTTL', gk('qlimited'))
if qwait > 0 then
  hold, max = now + qwait, 0
end
-- A shared limit (checked by the caller in its own slot) with no room left: hold until its window ends.
local shared_hold = tonumber(ARGV[8]) or 0
if shared_hold > now then
  hold, max = shared_hold, 0
end
local qlim, qkey, qper = tonumber(cfg[1]), nil, tonumber(cfg[2])
if max > 0 and qlim then
  local room, ends
  room, ends, qkey = window_room(gk('qr:'), qlim, qper)
  if room < max then max = room end
  if max <= 0 then hold, max = ends, 0 end
end
local glim, gper = tonumber(cfg[3]), tonumber(cfg[4])

local taken, token, first = 0, 0, 0
local leases = {}
local function take(id)
  local tk = prefix .. 't:' .. id
  local f = redis.call('HMGET', tk, 'n', 'm', 'pr', 'ra', 'ff', 'a', 'e', 'pg', 'g')
  -- A member whose hash is gone (removed by hand) is dropped rather than resurrected.
  if not f[1] then return end
  if taken == 0 then
    token = redis.call('INCRBY', k_seq, max) - max
    first = token
  end
  taken = taken + 1
  token = token + 1
  redis.call('HSET', tk, 's', 'active', 'w', worker, 'tok', token, 'st', 0)
  leases[#leases + 1] = lu
  leases[#leases + 1] = id
  row(id, token, f)
end

if max > 0 and redis.call('EXISTS', k_ring) == 0 then
  local popped = redis.call('ZPOPMIN', k_ready, max)
  for i = 1, #popped, 2 do take(popped[i]) end
elseif max > 0 then
  local vt = tonumber(redis.call('GET', gk('gvt'))) or 0
  if redis.call('ZCARD', k_ready) > 0 then redis.call('ZADD', k_ring, 'NX', vt, '') end
  -- Without caps nor weights stored, every group has weight 1 and no cap: no reads per take.
  local track, weighted = cfg[8] == '1', cfg[9] == '1'
  local last_pass, popped, visits = nil, 0, 0
  -- Rounds: the lowest passes leave the ring together, one take each, and come back with their
  -- next pass in one call (a group may have a second turn in the next round, never in the same).
  while taken < max and visits < 100 * max do
    local top = redis.call('ZPOPMIN', k_ring, max - taken)
    if #top == 0 then break end
    local back = {}
    for i = 1, #top, 2 do
      local g, pass = top[i], tonumber(top[i + 1])
      visits = visits + 1
      local gkey, room, ends = nil, 1, 0
      if g ~= '' and glim then room, ends, gkey = window_room(gk('gr:' .. g .. ':'), glim, gper) end
      if room <= 0 then
        redis.call('ZADD', gk('glimited'), 'GT', ends, g)
      else
        local zk = k_ready
        if g ~= '' then zk = gk('g:' .. g) end
        local p = redis.call('ZPOPMIN', zk, 1)
        -- Empty (its last task was taken earlier): it leaves the ring now.
        if #p > 0 then
          last_pass = pass
          local stays, weight = true, 1
          if g ~= '' then
            popped = popped + 1
            if gkey then window_use(gkey, 1, gper) end
            if track or weighted then
              local cap, w = g_cfg(g)
              weight = w
              if track then
                local active = redis.call('HINCRBY', gk('gactive'), g, 1)
                if cap > 0 and active >= cap then stays = false end
              end
            end
          end
          if stays then
            if not (weight > 0) then weight = 1 end
            back[#back + 1] = pass + 1 / weight
            back[#back + 1] = g
          end
          take(p[1])
        end
      end
    end
    bulk('ZADD', k_ring, back)
  end
  if last_pass then redis.call('SET', gk('gvt'), last_pass) end
  if popped > 0 then redis.call('DECRBY', gk('gwait'), popped) end
end

if taken > 0 then
  bulk('ZADD', k_active, leases)
  redis.call('SET', k_memo, lu .. ' ' .. first .. ' ' .. token, 'PX', ARGV[7])
  if qkey then window_use(qkey, taken, qper) end
end
local more = redis.call('ZCARD', k_ready) > 0 or redis.call('EXISTS', k_ring) == 1
if more and hold == nil then
  redis.call('ZADD', k_marker, 0, 'r')
else
  -- Work is left that may not start yet: a stale 'r' would wake the waiting workers for nothing.
  if more then redis.call('ZREM', k_marker, 'r') else hold = nil end
  local next_due = redis.call('ZRANGE', k_delayed, 0, 0, 'WITHSCORES')
  if #next_due > 0 and (hold == nil or tonumber(next_due[2]) < hold) then hold = tonumber(next_due[2]) end
  local next_group = redis.call('ZRANGE', gk('glimited'), 0, 0, 'WITHSCORES')
  if #next_group > 0 and (hold == nil or tonumber(next_group[2]) < hold) then hold = tonumber(next_group[2]) end
  if hold then redis.call('ZADD', k_marker, 'LT', hold, 'd') end
end
out[o + 1], out[o + 2], out[o + 3], out[o + 4] = cfg[5] or '', cfg[6] or '', cfg[7] or '', now
return out
`);

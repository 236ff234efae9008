import { luaScript } from '../../../../redis/scripts.js';
import { COMMON } from './common.js';

/**
 * REPAIR. KEYS: the queue's `completed` (routes the call to the queue's slot). ARGV: queue key
 * prefix, dry run (1/0), then pairs of kind and id found by SCAN: `p` (a payload), `pending`,
 * `dependents`, `t` (a task hash), `u` (an id kept taken), `req` (a call's memo).
 *
 * Each key is judged and removed in the script, so a worker's script can never run between the
 * look and the removal: a payload whose task hash is gone, a `pending:<id>` whose task is no longer
 * blocked, a `dependents:<id>` whose task is gone or finished (finishing settles and deletes it),
 * a finished task hash missing from its index (retention never sees it), and `u:`/`req:` keys that
 * lost their expiry. Returns the counts in that order.
 */
export const REPAIR = luaScript(`
local Q, dry = ARGV[1], ARGV[2] == '1'
local FINISHED = { completed = 'completed', dead = 'dead', cancelled = 'cancelled' }
local out = { 0, 0, 0, 0, 0, 0 }
local function drop(slot, ...)
  out[slot] = out[slot] + 1
  if not dry then redis.call('DEL', ...) end
end
for i = 3, #ARGV, 2 do
  local kind, id = ARGV[i], ARGV[i + 1]
  local tk = Q .. 't:' .. id
  if kind == 'p' then
    local pk = Q .. 'p:' .. id
    if redis.call('EXISTS', tk) == 0 and redis.call('EXISTS', pk) == 1 then drop(1, pk) end
  elseif kind == 'pending' then
    local k = Q .. 'pending:' .. id
    if redis.call('HGET', tk, 's') ~= 'blocked' and redis.call('EXISTS', k) == 1 then drop(2, k) end
  elseif kind == 'dependents' then
    local k = Q .. 'dependents:' .. id
    local s = redis.call('HGET', tk, 's')
    if (s == false or FINISHED[s]) and redis.call('EXISTS', k) == 1 then drop(3, k) end
  elseif kind == 't' then
    local s = redis.call('HGET', tk, 's')
    if s and FINISHED[s] and redis.call('ZSCORE', Q .. FINISHED[s], id) == false then
      drop(4, tk, Q .. 'p:' .. id)
    end
  elseif kind == 'u' or kind == 'req' then
    local k = Q .. kind .. ':' .. id
    if redis.call('PTTL', k) == -1 then drop(kind == 'u' and 5 or 6, k) end
  end
end
return out
`);

/**
 * DANGLING. KEYS: the index (`completed`, `dead`, `cancelled` zset, or `blocked` set). ARGV: queue
 * key prefix, dry run, kind (`z` or `s`), then ids found by ZSCAN/SSCAN. Removes the entries whose
 * task hash is gone (and, in `blocked`, those whose task is no longer blocked). Returns how many.
 */
export const DANGLING = luaScript(`
local Q, dry, kind, n = ARGV[1], ARGV[2] == '1', ARGV[3], 0
for i = 4, #ARGV do
  local id = ARGV[i]
  local s = redis.call('HGET', Q .. 't:' .. id, 's')
  local member = kind == 'z' and redis.call('ZSCORE', KEYS[1], id) ~= false
    or kind == 's' and redis.call('SISMEMBER', KEYS[1], id) == 1
  if member and (s == false or (kind == 's' and s ~= 'blocked')) then
    n = n + 1
    if not dry then
      if kind == 'z' then redis.call('ZREM', KEYS[1], id) else redis.call('SREM', KEYS[1], id) end
    end
  end
end
return n
`);

/**
 * TRIM. KEYS: completed, dead, cancelled. ARGV: queue key prefix, dry run, completed count,
 * completed age ms, dead count, dead age ms, batch. Applies the retention bounds (the ones
 * `finish` applies only to the index it just added to), at most `batch` per index per call.
 * Returns the entries (with their hashes and payloads) removed, or past the bounds in a dry run.
 */
export const TRIM = luaScript(`${COMMON}
now = server_now()
prefix = ARGV[1]
local dry, batch = ARGV[2] == '1', tonumber(ARGV[7])
local bounds = { { tonumber(ARGV[3]), tonumber(ARGV[4]) }, { tonumber(ARGV[5]), tonumber(ARGV[6]) }, { tonumber(ARGV[3]), tonumber(ARGV[4]) } }
local out = {}
for i = 1, 3 do
  local keep, age = bounds[i][1], bounds[i][2]
  if dry then
    local victims = redis.call('ZCARD', KEYS[i]) - keep
    local old = redis.call('ZCOUNT', KEYS[i], '-inf', '(' .. (now - age))
    if old > victims then victims = old end
    out[i] = math.max(0, victims)
  else
    out[i] = trim(KEYS[i], keep, age, batch)
  end
end
return out
`);

/**
 * UNUSED. KEYS: ready, delayed, active, blocked, completed, dead, cancelled, workers:exp, paused,
 * seq, marker, workers. ARGV: queue key prefix, dry run, idle ms, batch. A queue with nothing
 * waiting, delayed, running or blocked, not paused, without a live worker and whose newest
 * finished task is older than `idle` is unused: each call removes up to `batch` of its finished
 * tasks per index and, once they are all gone, its remaining keys. Checked again at every call,
 * so a task added in between stops the removal. Returns { state, removed }: state -1 in use,
 * 0 more to remove (or a dry run), 1 removed.
 */
export const UNUSED = luaScript(`${COMMON}
now = server_now()
prefix = ARGV[1]
local dry, idle, batch = ARGV[2] == '1', tonumber(ARGV[3]), tonumber(ARGV[4])
local live = redis.call('ZCARD', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + redis.call('ZCARD', KEYS[3])
  + redis.call('SCARD', KEYS[4]) + redis.call('ZCOUNT', KEYS[8], now, '+inf') + redis.call('EXISTS', KEYS[9])
if live > 0 then return { -1, 0 } end
local count = 0
for i = 5, 7 do
  local newest = redis.call('ZREVRANGE', KEYS[i], 0, 0, 'WITHSCORES')
  if newest[2] and tonumber(newest[2]) >= now - idle then return { -1, 0 } end
  count = count + redis.call('ZCARD', KEYS[i])
end
if dry then return { 0, count } end
local removed = 0
for i = 5, 7 do
  local popped = redis.call('ZPOPMIN', KEYS[i], batch)
  del_tasks(popped, 1, 2)
  removed = removed + #popped / 2
end
if removed < count then return { 0, removed } end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[8], KEYS[10], KEYS[11], KEYS[12])
return { 1, removed }
`);

import { luaScript } from '../../../../redis/scripts.js';
import { COMMON } from './common.js';

/**
 * ADD. KEYS: seq, ready, delayed, blocked, dead, marker, memo, then per task its hash key, its
 * payload key, its unique key when it has `uniqueForMs` and, when it has dependencies, its pending
 * set followed by the hash key and dependents set of each dependency. ARGV: queue key prefix,
 * channel, queue, number of tasks, dry run (1: validate only, for a call that spans queues and must
 * store nothing unless every queue's part is valid), memo ms, dead count, dead age ms, the caller's
 * clock (ms), then per
 * task: id, name, payload, priority, runAt, meta (JSON of the fields no script reads),
 * failOnDependencyFailure (1/0), createdAt, uniqueForMs (0: none), group (empty: none), dependency
 * count, dependency ids.
 *
 * Atomic: validation (unknown dependency, cycle among the new tasks) happens before any write, so
 * a rejected call stores nothing. New tasks are written in dependency order so that a task that
 * depends on another task of the same call sees its final state (it may be dead at once; dead
 * tasks are trimmed to their bound here as everywhere). Times are taken as given while the
 * caller's clock agrees with the server's within a second; beyond that they are moved by the
 * difference, so a delay means the same on every process. Returns `{'ok', id, created, state, ...}` or
 * `{'unknown', id, dep}` / `{'cycle', id}`; a re-sent call returns what the first one created.
 */
export const ADD = luaScript(`${COMMON}
now = server_now()
prefix = ARGV[1]
local channel, queue, n, dry_run, memo_ms = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5] == '1', ARGV[6]
local keep_d, age_d = tonumber(ARGV[7]), tonumber(ARGV[8])
local skew = now - tonumber(ARGV[9])
if math.abs(skew) < 1000 then skew = 0 end
local k_seq, k_ready, k_delayed, k_blocked, k_dead, k_marker, k_memo =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]

-- Parse the flat arguments into task descriptions (with the keys that belong to each).
local tasks, by_id = {}, {}
local a, k = 10, 8
for i = 1, n do
  local t = { id = ARGV[a], name = ARGV[a + 1], payload = ARGV[a + 2], pr = ARGV[a + 3], ra = ARGV[a + 4],
    meta = ARGV[a + 5], ff = ARGV[a + 6], ca = ARGV[a + 7], uf = tonumber(ARGV[a + 8]), g = ARGV[a + 9],
    deps = {}, dep_keys = {}, key = KEYS[k], payload_key = KEYS[k + 1], index = i }
  local nd = tonumber(ARGV[a + 10])
  a = a + 11
  k = k + 2
  if t.uf > 0 then
    t.unique_key = KEYS[k]
    k = k + 1
  end
  if nd > 0 then
    t.pending_key = KEYS[k]
    k = k + 1
    for j = 1, nd do
      t.deps[j] = ARGV[a]
      t.dep_keys[j] = { KEYS[k], KEYS[k + 1] }
      a = a + 1
      k = k + 2
    end
  end
  tasks[i] = t
end

local function report(created_flags)
  local out = { 'ok' }
  for i, t in ipairs(tasks) do
    out[#out + 1] = t.id
    out[#out + 1] = string.sub(created_flags, i, i) == '1' and 1 or 0
    out[#out + 1] = redis.call('HGET', t.key, 's') or 'completed'
  end
  return out
end

if not dry_run then
  local seen = memo_get(k_memo)
  if seen then return report(seen) end
end

for _, t in ipairs(tasks) do
  -- A task is new when its id is unknown (and not kept taken) and not taken by an earlier task of
  -- this call.
  t.new = by_id[t.id] == nil and redis.call('EXISTS', t.key) == 0 and
    (t.unique_key == nil or redis.call('EXISTS', t.unique_key) == 0)
  if t.new then by_id[t.id] = t end
end

-- Validation, before any write.
for _, t in ipairs(tasks) do
  if t.new then
    for j, dep in ipairs(t.deps) do
      if by_id[dep] == nil and redis.call('EXISTS', t.dep_keys[j][1]) == 0 then
        return { 'unknown', t.id, dep }
      end
    end
  end
end
-- Depth-first topological order of the new tasks; a task met again while on the path is a cycle.
local order, mark = {}, {}
local function visit(t)
  if mark[t.id] == 2 then return true end
  if mark[t.id] == 1 then return false end
  mark[t.id] = 1
  for _, dep in ipairs(t.deps) do
    local d = by_id[dep]
    if d ~= nil and not visit(d) then return false end
  end
  mark[t.id] = 2
  order[#order + 1] = t
  return true
end
for _, t in ipairs(tasks) do
  if t.new and not visit(t) then return { 'cycle', t.id } end
end

if dry_run then return { 'ok' } end

-- Writes. Sequence numbers follow the order of the call (FIFO), whatever the write order.
local last = redis.call('INCRBY', k_seq, n)
local events = {}
local any_ready, min_delay, any_dead = false, nil, false
for _, t in ipairs(order) do
  local seq = last - n + t.index
  local pending, failed_dep, failed_state = {}, nil, nil
  for j, dep in ipairs(t.deps) do
    local s = redis.call('HGET', t.dep_keys[j][1], 's')
    if s == 'completed' then
      -- satisfied
    elseif s == 'dead' or s == 'cancelled' then
      if t.ff == '1' then
        if failed_dep == nil then failed_dep, failed_state = dep, s end
      end
    else
      pending[#pending + 1] = j
    end
  end
  -- Ready now unless the caller asked for a later time (a clock a little ahead is not a delay).
  local ra = tonumber(t.ra) + skew
  local later = tonumber(t.ra) > tonumber(t.ca) and ra > now
  if not later and ra > now then ra = now end
  local state
  if failed_dep ~= nil then
    state = 'dead'
  elseif #pending > 0 then
    state = 'blocked'
  elseif later then
    state = 'delayed'
  else
    state = 'waiting'
  end
  -- One HSET per task, and its payload apart.
  local fields = { 'n', t.name, 'm', t.meta, 'pr', t.pr, 'ra', ra, 'ff', t.ff, 'sq', seq, 's', state, 'a', 0 }
  if t.g ~= '' then fields[#fields + 1] = 'g'; fields[#fields + 1] = t.g end
  if state == 'dead' then
    fields[#fields + 1] = 'fa'; fields[#fields + 1] = now
    fields[#fields + 1] = 'e'; fields[#fields + 1] = dep_error(failed_dep, failed_state)
  end
  redis.call('HSET', t.key, unpack(fields))
  redis.call('SET', t.payload_key, t.payload)
  if t.unique_key ~= nil then redis.call('SET', t.unique_key, 1, 'PX', t.uf) end
  if state == 'dead' then
    redis.call('ZADD', k_dead, now, t.id)
    events[#events + 1] = { 'dead', t.id, t.name }
    any_dead = true
  elseif state == 'blocked' then
    redis.call('SADD', k_blocked, t.id)
    for _, j in ipairs(pending) do
      redis.call('SADD', t.pending_key, t.deps[j])
      redis.call('SADD', t.dep_keys[j][2], t.id)
      -- 'hd' (has dependents) lets FINISH skip the dependents lookup for the usual task.
      redis.call('HSET', t.dep_keys[j][1], 'hd', 1)
    end
  elseif state == 'delayed' then
    redis.call('ZADD', k_delayed, ra, t.id)
    if min_delay == nil or ra < min_delay then min_delay = ra end
  else
    push_ready(t.id, k_ready, t.pr, seq, t.g)
    any_ready = true
  end
end
if any_ready then redis.call('ZADD', k_marker, 0, 'r') end
if min_delay ~= nil then redis.call('ZADD', k_marker, 'LT', min_delay, 'd') end
if any_dead then trim(k_dead, keep_d, age_d, 2 * n + 32) end
publish(channel, queue, events)

local flags = {}
for i, t in ipairs(tasks) do flags[i] = t.new and '1' or '0' end
flags = table.concat(flags)
redis.call('SET', k_memo, flags, 'PX', memo_ms)
return report(flags)
`);

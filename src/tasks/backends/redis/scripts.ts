import { luaScript } from '../../../redis/scripts.js';
import { DEPENDENCY_FAILED, UNSTARTED_DELIVERIES } from '../../errors.js';

/**
 * @internal The Lua scripts of the Redis task backend. Each one is a single atomic state change of
 * one queue: Redis runs a script to its end before any other command, so two workers can never
 * both pop the same task, and a finish can never interleave with the recovery of the same lease.
 *
 * Keys (`Q` = `<prefix>:{<queue>}:`, so every key of a queue hashes to one Cluster slot):
 * - `Q t:<id>`          hash of one task (short field names, see the list below);
 * - `Q p:<id>`          string: the task's payload (JSON text), apart from its hash so that no
 *                       script carries it: a claim returns the ids and the worker reads the
 *                       payloads with one MGET;
 * - `Q ready`           zset, score `band(priority) * 2^42 + seq`: priority first, then FIFO;
 * - `Q delayed`         zset by `runAt`;
 * - `Q active`          zset by lease expiry (`leaseUntil`);
 * - `Q blocked`         set of tasks waiting for dependencies;
 * - `Q pending:<id>`    set of the dependencies `<id>` still waits for;
 * - `Q dependents:<id>` set of the blocked tasks that wait for `<id>`;
 * - `Q completed`, `Q dead`, `Q cancelled`: zsets by `finishedAt`, trimmed by count and age;
 * - `Q paused`          string flag; `Q seq` counter of sequence numbers and fencing tokens;
 * - `Q marker`          zset that blocked `waitForWork` calls pop (BZPOPMIN): member `r` (score 0)
 *                       means "something is ready", member `d` (score = its `runAt`) "a delayed task
 *                       becomes due then";
 * - `Q workers`/`Q workers:exp`: worker heartbeats (hash of `<server ms>|<JSON>`, zset by expiry);
 * - `Q u:<id>`          present while a task id submitted with `uniqueForMs` stays taken, even after
 *                       its task was removed by retention (schedule slots use it);
 * - `Q req:<rid>`       the answer to one call, kept for a short while so that a call re-sent after
 *                       its reply was lost (ioredis re-sends what a dropped connection left
 *                       unanswered, and the backend retries once) gets the first answer instead of
 *                       running again.
 *
 * Every time a script compares or stores for a lease, a delay or retention is the Redis server's
 * (`TIME`), never the caller's: two processes whose clocks disagree still agree on when a lease
 * ends.
 *
 * Declared keys: the fixed keys above and the key of every task the caller names are passed in
 * KEYS. Keys of tasks the script discovers itself (popped from `ready`, the dependents of a
 * finished task, entries trimmed by retention) are built from the queue's key prefix `Q`, passed in
 * ARGV: they carry the same `{queue}` hash tag, so they live in the same Cluster slot as the
 * declared keys.
 */

/*
 * Task hash fields (short: every task carries them). Written at add: `n` name, `m`
 * the fields no script reads (JSON: maxRetries `mr`, backoff `bo`, timeoutMs `to`, createdAt `ca`,
 * dependsOn `dp`), `pr` priority, `ra` runAt, `ff` failOnDependencyFailure (1/0), `sq` sequence,
 * `s` state, `a` attempts started. Later: `sa` startedAt, `w` workerId, `tok` fencing token, `st`
 * 1 once the current lease's handler start was recorded, `nd` deliveries lost before a start was
 * recorded, `fa` finishedAt, `r` result, `e` error (JSON), `pg` progress, `hd` "has dependents".
 * An attempt counts (`a`) only once its start is recorded: a claim that never started costs
 * nothing. The lease end is
 * not a field: it is the task's score in `active`, the one place recovery reads it from. Fewer
 * fields make the HSET of every add and every claim cheaper.
 */

/**
 * Shared Lua: server time, request memos, ready scores, moving a task to ready/delayed, what
 * happens to the dependents of a task that ended, retention trimming and event publishing. Every
 * script starts with it; the functions use the globals `prefix` (the queue's key prefix) and `now`,
 * which each script sets before calling them.
 */
const COMMON = `
local now, prefix = 0, ''
local BAND = 4398046511104
local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function score_of(pr, sq)
  local band = math.floor(tonumber(pr) or 0)
  if band < 0 then band = 0 elseif band > 1000 then band = 1000 end
  return band * BAND + tonumber(sq)
end

-- Makes a task that is no longer blocked runnable: ready now, or delayed until its runAt.
local function make_runnable(id, tk, k_ready, k_delayed, k_marker)
  local f = redis.call('HMGET', tk, 'ra', 'pr', 'sq')
  local ra = tonumber(f[1]) or 0
  if ra > now then
    redis.call('HSET', tk, 's', 'delayed')
    redis.call('ZADD', k_delayed, ra, id)
    redis.call('ZADD', k_marker, 'LT', ra, 'd')
  else
    redis.call('HSET', tk, 's', 'waiting')
    redis.call('ZADD', k_ready, score_of(f[2], f[3]), id)
    redis.call('ZADD', k_marker, 0, 'r')
  end
end

local DEP_NAME, DEP_CODE = ${JSON.stringify(DEPENDENCY_FAILED.name)}, ${JSON.stringify(DEPENDENCY_FAILED.code)}
local function dep_error(dep, state)
  return cjson.encode({ name = DEP_NAME, code = DEP_CODE,
    message = 'dependency ' .. dep .. ' ended ' .. state .. ', so this task will not run' })
end

-- Settles the dependents of task \`id\`, which just ended in \`state\` (completed, dead or
-- cancelled): each blocked dependent drops it from its pending set and becomes runnable when the
-- set is empty; with a failed dependency and failOnDependencyFailure it dies instead, and its own
-- dependents are settled in turn (a worklist, not recursion, so a long chain cannot overflow).
-- Returns the released and the killed ids; appends a 'dead' event per killed task.
local function settle(id, state, k_ready, k_delayed, k_blocked, k_dead, k_marker, events)
  local released, killed = {}, {}
  local work = { { id, state } }
  local w = 1
  while w <= #work do
    local dep, dep_state = work[w][1], work[w][2]
    w = w + 1
    local dk = prefix .. 'dependents:' .. dep
    local dependents = redis.call('SMEMBERS', dk)
    if #dependents > 0 then redis.call('DEL', dk) end
    for _, d in ipairs(dependents) do
      local tk = prefix .. 't:' .. d
      local f = redis.call('HMGET', tk, 's', 'ff', 'n')
      if f[1] == 'blocked' then
        local pk = prefix .. 'pending:' .. d
        if dep_state ~= 'completed' and f[2] == '1' then
          redis.call('HSET', tk, 's', 'dead', 'fa', now, 'e', dep_error(dep, dep_state))
          redis.call('SREM', k_blocked, d)
          redis.call('DEL', pk)
          redis.call('ZADD', k_dead, now, d)
          killed[#killed + 1] = d
          events[#events + 1] = { 'dead', d, f[3] }
          work[#work + 1] = { d, 'dead' }
        else
          redis.call('SREM', pk, dep)
          if redis.call('SCARD', pk) == 0 then
            redis.call('DEL', pk)
            redis.call('SREM', k_blocked, d)
            make_runnable(d, tk, k_ready, k_delayed, k_marker)
            released[#released + 1] = d
          end
        end
      end
    end
  end
  return released, killed
end

-- Deletes the hash and the payload of each task in \`ids\` (every \`step\`-th entry from \`from\`),
-- in chunks that stay below Lua's limit on unpacked values.
local function del_tasks(ids, from, step)
  local tks = {}
  for i = from, #ids, step do
    tks[#tks + 1] = prefix .. 't:' .. ids[i]
    tks[#tks + 1] = prefix .. 'p:' .. ids[i]
    if #tks >= 4000 then
      redis.call('DEL', unpack(tks))
      tks = {}
    end
  end
  if #tks > 0 then redis.call('DEL', unpack(tks)) end
end

-- Retention: removes from zset \`k\` (by finishedAt) the entries older than \`age\` ms and the
-- oldest beyond \`keep\`, with their task hashes and payloads; at most \`batch\` per call so one
-- call stays short.
-- Both kinds of victims are a prefix of the zset (it is ordered by finishedAt), so one ZPOPMIN
-- takes them. Every caller adds fewer entries than it may remove, so the sets converge to their
-- bounds.
local function trim(k, keep, age, batch)
  local victims = redis.call('ZCARD', k) - keep
  local old = redis.call('ZCOUNT', k, '-inf', '(' .. (now - age))
  if old > victims then victims = old end
  if victims <= 0 then return 0 end
  if victims > batch then victims = batch end
  local popped = redis.call('ZPOPMIN', k, victims)
  del_tasks(popped, 1, 2)
  return #popped / 2
end

-- \`cmd\` (ZADD, ZREM) on \`k\` with the arguments in \`list\`, in chunks that stay below Lua's
-- limit on unpacked values.
local function bulk(cmd, k, list)
  for i = 1, #list, 4000 do
    redis.call(cmd, k, unpack(list, i, math.min(i + 3999, #list)))
  end
end

-- One PUBLISH per script call, whatever the number of changes: {q = queue, e = {{type, id, name}}}.
local function publish(channel, queue, events)
  if #events > 0 then redis.call('PUBLISH', channel, cjson.encode({ q = queue, e = events })) end
end

-- The remembered answer of a call that already ran (nil when it did not).
local function memo_get(k)
  local v = redis.call('GET', k)
  if v == false then return nil end
  return v
end
`;

/**
 * ADD. KEYS: seq, ready, delayed, blocked, dead, marker, memo, then per task its hash key, its
 * payload key, its unique key when it has `uniqueForMs` and, when it has dependencies, its pending
 * set followed by the hash key and dependents set of each dependency. ARGV: queue key prefix,
 * channel, queue, number of tasks, dry run (1: validate only, for a call that spans queues and must
 * store nothing unless every queue's part is valid), memo ms, dead count, dead age ms, the caller's
 * clock (ms), then per
 * task: id, name, payload, priority, runAt, meta (JSON of the fields no script reads),
 * failOnDependencyFailure (1/0), createdAt, uniqueForMs (0: none), dependency count, dependency
 * ids.
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
    meta = ARGV[a + 5], ff = ARGV[a + 6], ca = ARGV[a + 7], uf = tonumber(ARGV[a + 8]), deps = {},
    dep_keys = {}, key = KEYS[k], payload_key = KEYS[k + 1], index = i }
  local nd = tonumber(ARGV[a + 9])
  a = a + 10
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
    redis.call('ZADD', k_ready, score_of(t.pr, seq), t.id)
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
 * inline the caller reads them natively (`MGET` of their `p:<id>` keys), which costs Redis a
 * fraction of carrying 4 KB texts into Lua and out again, but costs a second round trip: a small
 * claim (a worker with few slots) is worth the round trip saved more than the Redis time.
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

/**
 * FINISH. KEYS: active, ready, delayed, completed, dead, blocked, marker, memo, then the hash key
 * of each started lease, then of each outcome's task. ARGV: queue key prefix, channel, queue,
 * completed count, completed age ms, dead count, dead age ms, memo ms, number of started leases,
 * the caller's clock (ms), then per started lease: id, token; then per outcome: kind (`c`
 * completed with a result, `n` completed without, `r` retry, `d` dead), id, token, data (result or
 * error JSON), time (finishedAt, or the retry's runAt; moved onto the server's clock when the
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
  local f = redis.call('HMGET', tk, 's', 'tok', 'n', 'hd', 'st', 'a')
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
    if kind == 'c' or kind == 'n' then
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
        redis.call('ZADD', k_ready, score_of(g[1], g[2]), id)
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
local any = false
for i = 4, #KEYS do
  local id, token = ARGV[i * 2 - 7], ARGV[i * 2 - 6]
  local f = redis.call('HMGET', KEYS[i], 's', 'tok', 'pr', 'sq', 'st')
  if f[1] == 'active' and f[2] == token then
    redis.call('HDEL', KEYS[i], 'tok', 'w', 'st')
    if f[5] == '1' then redis.call('HINCRBY', KEYS[i], 'a', -1) end
    redis.call('HSET', KEYS[i], 's', 'waiting')
    redis.call('ZREM', k_active, id)
    redis.call('ZADD', k_ready, score_of(f[3], f[4]), id)
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
  local f = redis.call('HMGET', tk, 's', 'pr', 'sq', 'st', 'n', 'hd')
  if f[1] == 'active' then
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
      redis.call('ZADD', k_ready, score_of(f[2], f[3]), id)
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

/**
 * PROGRESS. KEYS: the task's hash. ARGV: token, progress, channel, queue, id. Stores the progress
 * only under the current lease and publishes a `progress` event; returns 1, or 0 for a lost lease.
 */
export const PROGRESS = luaScript(`${COMMON}
local f = redis.call('HMGET', KEYS[1], 's', 'tok', 'n')
if f[1] ~= 'active' or f[2] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'pg', ARGV[2])
publish(ARGV[3], ARGV[4], { { 'progress', ARGV[5], f[3] } })
return 1
`);

/**
 * CANCEL. KEYS: the task's hash, its pending set, ready, delayed, blocked, cancelled, dead,
 * marker, memo. ARGV: queue key prefix, channel, queue, id, completed count, completed age ms, dead
 * count, dead age ms, memo ms.
 *
 * Atomic: only a task that has not started (waiting, delayed, blocked) is cancelled; it leaves its
 * index, stops being a dependent of its own dependencies, and its dependents are settled as for a
 * dead dependency. Cancelled tasks are kept within the completed bounds (as in the memory
 * backend), the dependents it kills within the dead ones. Returns 1 or 0; a re-sent call the
 * first answer.
 */
export const CANCEL = luaScript(`${COMMON}
local seen = memo_get(KEYS[9])
if seen then return tonumber(seen) end
now = server_now()
prefix = ARGV[1]
local channel, queue, id = ARGV[2], ARGV[3], ARGV[4]
local tk, k_pending, k_ready, k_delayed, k_blocked, k_cancelled, k_dead, k_marker =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local f = redis.call('HMGET', tk, 's', 'n')
local s = f[1]
if s == 'waiting' then
  redis.call('ZREM', k_ready, id)
elseif s == 'delayed' then
  redis.call('ZREM', k_delayed, id)
elseif s == 'blocked' then
  redis.call('SREM', k_blocked, id)
  for _, dep in ipairs(redis.call('SMEMBERS', k_pending)) do
    redis.call('SREM', prefix .. 'dependents:' .. dep, id)
  end
  redis.call('DEL', k_pending)
else
  redis.call('SET', KEYS[9], 0, 'PX', ARGV[9])
  return 0
end
redis.call('HSET', tk, 's', 'cancelled', 'fa', now)
redis.call('ZADD', k_cancelled, now, id)
local events = { { 'cancelled', id, f[2] } }
local _, killed = settle(id, 'cancelled', k_ready, k_delayed, k_blocked, k_dead, k_marker, events)
local keep_d, age_d = tonumber(ARGV[7]), tonumber(ARGV[8])
trim(k_cancelled, tonumber(ARGV[5]), tonumber(ARGV[6]), 34)
if #killed > 0 then trim(k_dead, keep_d, age_d, 2 * #killed + 32) end
publish(channel, queue, events)
redis.call('SET', KEYS[9], 1, 'PX', ARGV[9])
return 1
`);

/**
 * RETRY_DEAD. KEYS: the task's hash, dead, ready, marker, blocked, its pending set, memo. ARGV: id,
 * queue key prefix, memo ms. A dead task goes back with `attempts` reset (its last error is kept
 * for reference), and waits for its dependencies again: those completed (or no longer stored) are
 * done, those still to run make it blocked on them, and one that is dead or cancelled refuses the
 * retry when the task fails with its dependencies (nothing changes; retry the dependency first).
 * Returns `{1}` (retried: ready or blocked), `{0}` (not dead) or `{2, dependency, state}`
 * (refused); a re-sent call returns the first answer.
 */
export const RETRY_DEAD = luaScript(`${COMMON}
local seen = memo_get(KEYS[7])
if seen then return { tonumber(seen) } end
prefix = ARGV[2]
local tk, k_dead, k_ready, k_marker, k_blocked, k_pending = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id = ARGV[1]
local f = redis.call('HMGET', tk, 's', 'pr', 'sq', 'm', 'ff')
if f[1] ~= 'dead' then return { 0 } end
local deps = {}
if f[4] then
  local ok, meta = pcall(cjson.decode, f[4])
  if ok and type(meta) == 'table' and type(meta.dp) == 'table' then deps = meta.dp end
end
local pending = {}
for _, dep in ipairs(deps) do
  local s = redis.call('HGET', prefix .. 't:' .. dep, 's')
  if s == 'dead' or s == 'cancelled' then
    if f[5] ~= '0' then return { 2, dep, s } end
  elseif s and s ~= 'completed' then
    pending[#pending + 1] = dep
  end
end
redis.call('HDEL', tk, 'fa', 'tok', 'w', 'st', 'nd')
redis.call('ZREM', k_dead, id)
if #pending > 0 then
  redis.call('HSET', tk, 's', 'blocked', 'a', 0)
  redis.call('SADD', k_blocked, id)
  for _, dep in ipairs(pending) do
    redis.call('SADD', k_pending, dep)
    redis.call('SADD', prefix .. 'dependents:' .. dep, id)
    redis.call('HSET', prefix .. 't:' .. dep, 'hd', 1)
  end
else
  redis.call('HSET', tk, 's', 'waiting', 'a', 0)
  redis.call('ZADD', k_ready, score_of(f[2], f[3]), id)
  redis.call('ZADD', k_marker, 0, 'r')
end
redis.call('SET', KEYS[7], 1, 'PX', ARGV[3])
return { 1 }
`);

/**
 * PURGE. KEYS: a finished-tasks zset (dead). ARGV: queue key prefix, batch. Removes up to `batch`
 * entries with their hashes and payloads; returns how many (the caller repeats until 0).
 */
export const PURGE = luaScript(`${COMMON}
prefix = ARGV[1]
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
if #ids == 0 then return 0 end
del_tasks(ids, 1, 1)
redis.call('ZREM', KEYS[1], unpack(ids))
return #ids
`);

/**
 * COUNTS. KEYS: ready, delayed, blocked, active, completed, dead, paused. ARGV: queue key prefix.
 * Returns the counts, the paused flag and the oldest `createdAt` among ready tasks. The ready zset
 * is ordered by priority band then sequence, so the oldest task is the head of one of the bands:
 * the script visits the head of each band present (at most one per priority in use).
 */
export const COUNTS = luaScript(`${COMMON}
prefix = ARGV[1]
local oldest = nil
local from = '-inf'
for _ = 1, 1001 do
  local head = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #head == 0 then break end
  local meta = redis.call('HGET', prefix .. 't:' .. head[1], 'm')
  local ca = meta and tonumber(cjson.decode(meta).ca)
  if ca ~= nil and (oldest == nil or ca < oldest) then oldest = ca end
  from = '(' .. string.format('%.0f', (math.floor(tonumber(head[2]) / BAND) + 1) * BAND - 1)
end
return { redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('SCARD', KEYS[3]),
  redis.call('ZCARD', KEYS[4]), redis.call('ZCARD', KEYS[5]), redis.call('ZCARD', KEYS[6]),
  redis.call('EXISTS', KEYS[7]), oldest and string.format('%.0f', oldest) or '' }
`);

/**
 * Drops up to `limit` worker entries whose heartbeat expired before `now` (both keys together).
 */
const WORKERS_COMMON = `${COMMON}
local function prune(k_workers, k_exp, limit)
  local expired = redis.call('ZRANGEBYSCORE', k_exp, '-inf', '(' .. now, 'LIMIT', 0, limit)
  if #expired > 0 then
    redis.call('HDEL', k_workers, unpack(expired))
    redis.call('ZREM', k_exp, unpack(expired))
  end
end
`;

/**
 * HEARTBEAT. KEYS: workers hash, workers expiry zset. ARGV: worker id, JSON, ttl ms. Writes the
 * entry (with the server's time) and its expiry together, so a listed worker always has both, and
 * drops a few expired entries: workers that died without saying so leave the registry even when
 * nobody lists it.
 */
export const HEARTBEAT = luaScript(`${WORKERS_COMMON}
now = server_now()
redis.call('HSET', KEYS[1], ARGV[1], now .. '|' .. ARGV[2])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
prune(KEYS[1], KEYS[2], 20)
return 1
`);

/**
 * WORKERS. KEYS: workers hash, workers expiry zset. Drops the entries whose heartbeat expired and
 * returns the server's time followed by the `<server ms>|<JSON>` entry of every other.
 */
export const WORKERS = luaScript(`${WORKERS_COMMON}
now = server_now()
prune(KEYS[1], KEYS[2], 1000)
local out = redis.call('HVALS', KEYS[1])
table.insert(out, 1, now)
return out
`);

/** REMOVE_WORKER. KEYS: workers hash, workers expiry zset. ARGV: worker id. */
export const REMOVE_WORKER = luaScript(`
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`);

/**
 * ONCE. KEYS: a marker key. ARGV: owner (unique per call), ttl ms. Sets the marker for `owner`
 * unless it exists; returns 1 when the marker is this owner's (set now, or by this same call
 * before its reply was lost), else 0.
 */
export const ONCE = luaScript(`
local v = redis.call('GET', KEYS[1])
if v == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if v == ARGV[1] then return 1 end
return 0
`);

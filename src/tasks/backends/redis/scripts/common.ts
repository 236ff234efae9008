import { DEPENDENCY_FAILED } from '../../../errors.js';
import { GROUPS_LUA } from './groups.js';

/*
 * Task hash fields (short: every task carries them). Written at add: `n` name, `m`
 * the fields no script reads (JSON: maxRetries `mr`, backoff `bo`, timeoutMs `to`, createdAt `ca`,
 * dependsOn `dp`), `pr` priority, `ra` runAt, `ff` failOnDependencyFailure (1/0), `sq` sequence, `g` group (absent: none),
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
export const COMMON = `
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
${GROUPS_LUA}

-- Makes a task that is no longer blocked runnable: ready now, or delayed until its runAt.
local function make_runnable(id, tk, k_ready, k_delayed, k_marker)
  local f = redis.call('HMGET', tk, 'ra', 'pr', 'sq', 'g')
  local ra = tonumber(f[1]) or 0
  if ra > now then
    redis.call('HSET', tk, 's', 'delayed')
    redis.call('ZADD', k_delayed, ra, id)
    redis.call('ZADD', k_marker, 'LT', ra, 'd')
  else
    redis.call('HSET', tk, 's', 'waiting')
    push_ready(id, k_ready, f[2], f[3], f[4])
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

import { luaScript } from '../../../../redis/scripts.js';

/**
 * RESTORE_DEAD. KEYS: seq, dead, then the hash and payload key of each task. ARGV: then per task
 * its id, name, meta (JSON), priority, runAt, ff, group ('' for none), attempts, startedAt ('' for
 * none), finishedAt, error (JSON, '' for none), payload. Re-creates dead tasks (a backup restored):
 * a task whose id is stored already is left alone. Returns 1 (created) or 0 per task.
 */
export const RESTORE_DEAD = luaScript(`
local k_seq, k_dead = KEYS[1], KEYS[2]
local out = {}
local n = (#KEYS - 2) / 2
for i = 1, n do
  local tk, pk = KEYS[1 + 2 * i], KEYS[2 + 2 * i]
  local a = (i - 1) * 12
  if redis.call('EXISTS', tk) == 1 then
    out[i] = 0
  else
    local id = ARGV[a + 1]
    local seq = redis.call('INCR', k_seq)
    local fields = { 'n', ARGV[a + 2], 'm', ARGV[a + 3], 'pr', ARGV[a + 4], 'ra', ARGV[a + 5],
      'ff', ARGV[a + 6], 'sq', seq, 's', 'dead', 'a', ARGV[a + 8], 'fa', ARGV[a + 10] }
    if ARGV[a + 7] ~= '' then fields[#fields + 1] = 'g'; fields[#fields + 1] = ARGV[a + 7] end
    if ARGV[a + 9] ~= '' then fields[#fields + 1] = 'sa'; fields[#fields + 1] = ARGV[a + 9] end
    if ARGV[a + 11] ~= '' then fields[#fields + 1] = 'e'; fields[#fields + 1] = ARGV[a + 11] end
    redis.call('HSET', tk, unpack(fields))
    redis.call('SET', pk, ARGV[a + 12])
    redis.call('ZADD', k_dead, tonumber(ARGV[a + 10]), id)
    out[i] = 1
  end
end
return out
`);

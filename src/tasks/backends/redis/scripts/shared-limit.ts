import { luaScript } from '../../../../redis/scripts.js';

/**
 * SHARED_TAKE. KEYS: the limit's key prefix (`<prefix>:{limit:<name>}:`, its own Cluster slot).
 * ARGV: limit, window ms, most to take. Takes up to that many starts from the current window of a
 * limit several queues share (fixed windows on the server's clock); returns how many it took, the
 * window's counter key and when the window ends. The caller then claims at most that many, and
 * gives back (SHARED_GIVE) what its claim did not use.
 */
export const SHARED_TAKE = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lim, per, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local w = math.floor(now / per)
local key = KEYS[1] .. w
local used = tonumber(redis.call('GET', key)) or 0
local room = lim - used
if room > want then room = want end
if room < 0 then room = 0 end
if room > 0 then
  redis.call('INCRBY', key, room)
  if used == 0 then redis.call('PEXPIRE', key, 2 * per) end
end
return { room, key, string.format('%.0f', (w + 1) * per) }
`);

/** SHARED_GIVE. KEYS: a window's counter key. ARGV: how many to give back (while it exists). */
export const SHARED_GIVE = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DECRBY', KEYS[1], tonumber(ARGV[1])) end
return 1
`);

import { luaScript } from '../../../../redis/scripts.js';

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

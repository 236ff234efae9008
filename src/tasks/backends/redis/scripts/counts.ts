import { luaScript } from '../../../../redis/scripts.js';
import { COMMON } from './common.js';

/**
 * COUNTS. KEYS: ready, delayed, blocked, active, completed, dead, paused. ARGV: queue key prefix.
 * Returns the counts (waiting: ungrouped and grouped), the paused flag and the oldest `createdAt` among ready tasks. The ready zset
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
local grouped = tonumber(redis.call('GET', prefix .. 'gwait')) or 0
return { redis.call('ZCARD', KEYS[1]) + grouped, redis.call('ZCARD', KEYS[2]), redis.call('SCARD', KEYS[3]),
  redis.call('ZCARD', KEYS[4]), redis.call('ZCARD', KEYS[5]), redis.call('ZCARD', KEYS[6]),
  redis.call('EXISTS', KEYS[7]), oldest and string.format('%.0f', oldest) or '' }
`);

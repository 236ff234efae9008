import { luaScript } from '../../../../redis/scripts.js';
import { COMMON } from './common.js';

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

export {
  checkTimeout,
  createClient,
  masters,
  quitClient,
  type RedisClient,
  resolveClient,
  whenReady,
} from './client.js';
export { checkPrefix, escapeSegment, globEscape, hashTag, redisSegment } from './keys.js';
export { type LuaScript, luaScript, runScript } from './scripts.js';
export { resubscribeOnReady, SUBSCRIBER_OPTIONS, subscriberOf } from './subscriber.js';

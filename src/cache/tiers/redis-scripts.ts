import { luaScript } from '../../redis/scripts.js';
import { FIXED_HEADER, FORMAT_VERSION } from './redis-entry.js';

// @internal The Redis tier's Lua scripts: each write of the tier is one of them, atomic in one slot.

/**
 * Shared by the scripts that need an entry's tags: Lua cannot call back into JavaScript, so it
 * reads them from the binary header. `esc` must stay byte-for-byte equal to `escapeSegment` (tags
 * are well-formed, so their UTF-8 bytes never contain `%`, `:`, `{` or `}` other than as those).
 * The entry keys a script builds from `ARGV` share the hash tag of its declared keys, so every key
 * it touches is in the same Cluster slot.
 */
const LUA_HEADER = `
local function esc(s)
  return (string.gsub(s, '[%%:{}]', function(c) return string.format('%%%02X', string.byte(c)) end))
end
local function tags_of(key)
  local head = redis.pcall('GETRANGE', key, 0, 4)
  if type(head) ~= 'string' or #head < 5 or string.byte(head, 1) ~= ${FORMAT_VERSION} then return nil end
  local a, b, c, d = string.byte(head, 2, 5)
  local hlen = ((a * 256 + b) * 256 + c) * 256 + d
  if hlen < ${FIXED_HEADER} then return nil end
  head = redis.call('GETRANGE', key, 0, hlen - 1)
  if #head < hlen then return nil end
  local count = string.byte(head, 30) * 256 + string.byte(head, 31)
  local pos = ${FIXED_HEADER + 1}
  local tags = {}
  for i = 1, count do
    if pos + 1 > hlen then return nil end
    local len = string.byte(head, pos) * 256 + string.byte(head, pos + 1)
    pos = pos + 2
    if pos + len - 1 > hlen then return nil end
    tags[i] = string.sub(head, pos, pos + len - 1)
    pos = pos + len
  end
  if pos ~= hlen + 1 then return nil end
  return tags
end
`;

/**
 * KEYS: entry, then the tag sets of the new tags. ARGV: value, px, namespace prefix, member, then
 * the new tags. Removes the key from the sets of its previous tags (read from the old header), so
 * a replaced entry is never found under a tag it no longer has.
 */
export const SET = luaScript(`${LUA_HEADER}
local entry, px, prefix, member = KEYS[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local keep = {}
for i = 5, #ARGV do keep[ARGV[i]] = true end
local old = tags_of(entry)
if old then
  for _, tag in ipairs(old) do
    if not keep[tag] then redis.call('SREM', prefix .. 't:' .. esc(tag), member) end
  end
end
if px <= 0 then
  redis.call('DEL', entry)
  for i = 2, #KEYS do redis.call('SREM', KEYS[i], member) end
  return 0
end
redis.call('SET', entry, ARGV[1], 'PX', px)
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], member)
  if redis.call('PTTL', KEYS[i]) < px then redis.call('PEXPIRE', KEYS[i], px) end
end
return 1
`);

/** KEYS: entry. ARGV: namespace prefix, member. */
export const DELETE = luaScript(`${LUA_HEADER}
local tags = tags_of(KEYS[1])
if tags then
  for _, tag in ipairs(tags) do redis.call('SREM', ARGV[1] .. 't:' .. esc(tag), ARGV[2]) end
end
return redis.call('DEL', KEYS[1])
`);

/**
 * KEYS: tag sets of one namespace. ARGV: namespace prefix, batch size, then the tags. Pops up to a
 * batch of members per set and deletes those whose current header still carries the tag; a member
 * left behind by an expiry or a replaced entry is dropped without counting. Returns
 * {removed, members left}: the caller repeats until nothing is left, so one call never blocks
 * Redis for long on a huge tag.
 */
export const DELETE_BY_TAGS = luaScript(`${LUA_HEADER}
local prefix, batch = ARGV[1], tonumber(ARGV[2])
local removed, left = 0, 0
for i = 1, #KEYS do
  local wanted = ARGV[i + 2]
  local members = redis.call('SPOP', KEYS[i], batch)
  for _, member in ipairs(members) do
    local entry = prefix .. 'k:' .. member
    local tags = tags_of(entry)
    local has = false
    if tags then
      for _, tag in ipairs(tags) do if tag == wanted then has = true end end
    end
    if has then
      for _, tag in ipairs(tags) do
        if tag ~= wanted then redis.call('SREM', prefix .. 't:' .. esc(tag), member) end
      end
      removed = removed + redis.call('DEL', entry)
    end
  end
  left = left + redis.call('SCARD', KEYS[i])
end
return {removed, left}
`);

/** KEYS: one tag set. ARGV: namespace prefix, escaped tag, members to check. */
export const PRUNE = luaScript(`${LUA_HEADER}
local cleaned = 0
for i = 3, #ARGV do
  local tags = tags_of(ARGV[1] .. 'k:' .. ARGV[i])
  local has = false
  if tags then
    for _, tag in ipairs(tags) do if esc(tag) == ARGV[2] then has = true end end
  end
  if not has then cleaned = cleaned + redis.call('SREM', KEYS[1], ARGV[i]) end
end
return cleaned
`);

/**
 * KEYS: a registry set. ARGV: px, members. The set lives at least as long as the longest entry
 * registered in it, and then expires: nothing else prunes the registries.
 */
export const REGISTER = luaScript(`
redis.call('SADD', KEYS[1], unpack(ARGV, 2))
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
`);

/**
 * KEYS: entry. ARGV: namespace prefix, member, the value the entry must still hold. pcall: a key
 * of another type is not an error here, only not the value.
 */
export const DELETE_IF_EQUAL = luaScript(`${LUA_HEADER}
if redis.pcall('GET', KEYS[1]) ~= ARGV[3] then return 0 end
local tags = tags_of(KEYS[1])
if tags then
  for _, tag in ipairs(tags) do redis.call('SREM', ARGV[1] .. 't:' .. esc(tag), ARGV[2]) end
end
return redis.call('DEL', KEYS[1])
`);

/** KEYS: one key. ARGV: the value it must still hold to be deleted. */
export const UNLINK_IF_EQUAL = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

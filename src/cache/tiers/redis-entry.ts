import { describeValue, InvalidArgumentError } from '../../core/errors.js';
import { CacheCodecError } from '../errors.js';
import type { EntryMeta, StoredEntry } from '../types.js';

// The Redis tier's stored form of an entry; its Lua scripts read the same header.

/**
 * Bytes 0: format version; 1-4: header length (u32 BE, so Lua can GETRANGE exactly the header);
 * 5-28: createdAt, expiresAt, staleUntil (float64 BE, exact for any epoch-ms value);
 * 29-30: tag count (u16 BE); then per tag a u16 BE byte length and its UTF-8; then the payload.
 */
export const FORMAT_VERSION = 1;
export const FIXED_HEADER = 31;
const MAX_U16 = 0xffff;
export const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** @internal Exported for tests: the stored form of an entry. */
export function encodeEntry(payload: Uint8Array, meta: EntryMeta): Buffer {
  for (const field of ['createdAt', 'expiresAt', 'staleUntil'] as const) {
    if (typeof meta[field] !== 'number' || !Number.isFinite(meta[field])) {
      throw new InvalidArgumentError(
        `${field}=${describeValue(meta[field])} is invalid: expected a finite number of epoch milliseconds`,
        { argument: field, value: meta[field], expected: 'a finite number' },
      );
    }
  }
  if (meta.tags.length > MAX_U16) {
    throw new InvalidArgumentError(
      `tags has ${meta.tags.length} tags: the Redis tier stores at most ${MAX_U16} per entry`,
      { argument: 'tags', value: meta.tags.length, expected: `at most ${MAX_U16} tags` },
    );
  }
  const tagBytes = meta.tags.map((tag) => {
    // Lossy UTF-8 would return another tag than was set, and the Lua side would index it under
    // another name than the JavaScript side.
    if (typeof tag !== 'string' || LONE_SURROGATE.test(tag)) {
      throw new InvalidArgumentError(
        `tag ${describeValue(tag)} is invalid: expected a well-formed string`,
        { argument: 'tags', value: tag, expected: 'a well-formed string' },
      );
    }
    const bytes = Buffer.from(tag, 'utf8');
    if (bytes.length > MAX_U16) {
      throw new InvalidArgumentError(
        `tag ${describeValue(tag)} is ${bytes.length} bytes long: expected at most ${MAX_U16}`,
        { argument: 'tags', value: tag, expected: `at most ${MAX_U16} bytes of UTF-8` },
      );
    }
    return bytes;
  });
  let headerLength = FIXED_HEADER;
  for (const bytes of tagBytes) headerLength += 2 + bytes.length;
  const out = Buffer.allocUnsafe(headerLength + payload.byteLength);
  out[0] = FORMAT_VERSION;
  out.writeUInt32BE(headerLength, 1);
  out.writeDoubleBE(meta.createdAt, 5);
  out.writeDoubleBE(meta.expiresAt, 13);
  out.writeDoubleBE(meta.staleUntil, 21);
  out.writeUInt16BE(tagBytes.length, 29);
  let offset = FIXED_HEADER;
  for (const bytes of tagBytes) {
    out.writeUInt16BE(bytes.length, offset);
    bytes.copy(out, offset + 2);
    offset += 2 + bytes.length;
  }
  out.set(payload, headerLength);
  return out;
}

/** @internal Exported for tests: reads what {@link encodeEntry} wrote; throws on anything else. */
export function decodeEntry(raw: Buffer): StoredEntry<Uint8Array> {
  const malformed = (reason: string) =>
    new CacheCodecError(`redis tier: stored value is malformed: ${reason}`, {
      tier: 'redis',
      reason,
      bytes: raw.length,
    });
  // Bytes 2-31 are the versions this format may take next; a value written by something else
  // (text, JSON) starts with a printable byte and is malformed instead.
  if (raw.length >= 1 && raw[0]! > FORMAT_VERSION && raw[0]! < 0x20) {
    throw new CacheCodecError(
      `redis tier: stored value has format version ${raw[0]}, newer than this release reads (${FORMAT_VERSION})`,
      { tier: 'redis', reason: 'unsupported-version', version: raw[0], bytes: raw.length },
    );
  }
  if (raw.length < FIXED_HEADER) throw malformed('shorter than the header');
  if (raw[0] !== FORMAT_VERSION) throw malformed(`unknown format version ${raw[0]}`);
  const headerLength = raw.readUInt32BE(1);
  if (headerLength < FIXED_HEADER || headerLength > raw.length) {
    throw malformed('header length out of range');
  }
  const createdAt = raw.readDoubleBE(5);
  const expiresAt = raw.readDoubleBE(13);
  const staleUntil = raw.readDoubleBE(21);
  if (!Number.isFinite(createdAt) || !Number.isFinite(expiresAt) || !Number.isFinite(staleUntil)) {
    throw malformed('times are not finite');
  }
  const count = raw.readUInt16BE(29);
  const tags: string[] = [];
  let offset = FIXED_HEADER;
  for (let i = 0; i < count; i++) {
    if (offset + 2 > headerLength) throw malformed('truncated tag list');
    const length = raw.readUInt16BE(offset);
    offset += 2;
    if (offset + length > headerLength) throw malformed('truncated tag');
    try {
      tags.push(utf8.decode(raw.subarray(offset, offset + length)));
    } catch {
      throw malformed('tag is not UTF-8');
    }
    offset += length;
  }
  if (offset !== headerLength) throw malformed('header length does not match its tags');
  return { payload: raw.subarray(headerLength), createdAt, expiresAt, staleUntil, tags };
}

import type { EntryMeta } from './types.js';

/*
 * What an entry of the cache is bound to: its namespace, its key and the metadata the tiers keep
 * beside it (times and tags). The codec feeds these bytes to AES-GCM as associated data (or to the
 * CRC when unencrypted), so changing any of them in the store makes the entry fail its check.
 *
 * Layout (integers big-endian, strings UTF-16LE so that lone surrogates stay distinct):
 *
 *   4 + 2n   namespace      code-unit count, then the code units
 *   4 + 2n   key            likewise
 *   8 x 3    times          createdAt, expiresAt, staleUntil as float64
 *   4        tag count      then each tag as code-unit count and code units
 *
 * Tags are a set: they are bound in sorted order without duplicates, so a tier may hand them back
 * in any order. Every field is length-prefixed, so no two bindings share the same bytes.
 */

/**
 * The bytes an entry of `key` in `namespace` with `meta` is bound to (see the layout above).
 *
 * @internal
 * @example
 * ```ts
 * const aad = entryBinding('users', 'user:1', { createdAt, expiresAt, staleUntil, tags: ['user:1'] });
 * ```
 */
export function entryBinding(namespace: string, key: string, meta: EntryMeta): Buffer {
  const tags = canonicalTags(meta.tags);
  let length = 4 + 2 * namespace.length + 4 + 2 * key.length + 24 + 4;
  for (let i = 0; i < tags.length; i++) length += 4 + 2 * tags[i]!.length;
  const out = Buffer.allocUnsafe(length);
  let offset = writeText(out, 0, namespace);
  offset = writeText(out, offset, key);
  // `+ 0` turns -0 into 0: both are the same time, and a tier may hand back either.
  offset = out.writeDoubleBE(meta.createdAt + 0, offset);
  offset = out.writeDoubleBE(meta.expiresAt + 0, offset);
  offset = out.writeDoubleBE(meta.staleUntil + 0, offset);
  offset = out.writeUInt32BE(tags.length, offset);
  for (let i = 0; i < tags.length; i++) offset = writeText(out, offset, tags[i]!);
  return out;
}

function writeText(out: Buffer, offset: number, text: string): number {
  let at = out.writeUInt32BE(text.length, offset);
  // For the short strings of most keys and tags, the call into the native encoder costs more
  // than copying the code units here.
  if (text.length > 64) return at + out.write(text, at, 'utf16le');
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    out[at++] = unit & 0xff;
    out[at++] = unit >>> 8;
  }
  return at;
}

/** `tags` itself when already sorted without duplicates (the usual case), else a sorted copy. */
function canonicalTags(tags: readonly string[]): readonly string[] {
  for (let i = 1; i < tags.length; i++) {
    if (!(tags[i - 1]! < tags[i]!)) return [...new Set(tags)].sort();
  }
  return tags;
}

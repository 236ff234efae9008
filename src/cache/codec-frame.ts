import { randomFillSync } from 'node:crypto';
import * as zlib from 'node:zlib';
import { CacheCodecError } from './errors.js';

/** A compression algorithm of {@link CompressionOptions}. */
export type CompressionAlgorithm = 'gzip' | 'deflate' | 'brotli';

/*
 * Entry layout (all integers big-endian):
 *
 *   0      0xC1                 magic: a byte MessagePack never uses, so raw MessagePack, JSON or
 *                               text written by something else is never mistaken for an entry
 *   1      0x01                 format version
 *   2      flags                bits 0-1 compression (0 none, 1 gzip, 2 raw deflate, 3 brotli),
 *                               bit 2 encrypted, bit 3 escaped body (see codec-negative-zero.ts),
 *                               bit 4 bound: the associated data is the entry binding of
 *                               codec-binding.ts (namespace, key, times, tags), not the caller's,
 *                               bits 5-7 reserved (must be 0)
 *   [4]    decoded length       only when compressed: the size of the serialized value, so the
 *                               decompressor can be capped at exactly that many bytes
 *   [1+n]  key id               only when encrypted: length n (1-255), then n bytes of UTF-8
 *   [12]   IV                   only when encrypted: random, one per entry
 *   ...    body                 the MessagePack bytes, compressed and/or encrypted
 *   4|16   trailer              unencrypted: CRC-32 of every byte before it (and of the associated
 *                               data); encrypted: the 16-byte GCM tag, the header bytes (0 to the
 *                               end of the IV) and the associated data being GCM's AAD
 *
 * Without the CRC a flipped bit in a MessagePack body often still decodes, to a different value:
 * the trailer is what makes "never a wrong value" hold for unencrypted entries. CRC-32 detects
 * every error confined to 32 consecutive bits, so every single-byte change. It protects against
 * corruption, not against someone who can
 * write to the store on purpose: that is what encryption (an authenticated cipher) is for.
 */
export const MAGIC = 0xc1;
export const VERSION = 1;
export const FLAG_COMPRESSION = 0b0000_0011;
export const FLAG_ENCRYPTED = 0b0000_0100;
export const FLAG_ESCAPED = 0b0000_1000;
export const FLAG_BOUND = 0b0001_0000;
export const FLAG_RESERVED = 0b1110_0000;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const CRC_BYTES = 4;

export const ALGORITHM_CODES: Record<CompressionAlgorithm, number> = {
  gzip: 1,
  deflate: 2,
  brotli: 3,
};
export const ALGORITHM_NAMES = ['none', 'gzip', 'deflate', 'brotli'] as const;

const BROTLI_PARAMS = (sizeHint: number) => ({
  params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: 5,
    [zlib.constants.BROTLI_PARAM_SIZE_HINT]: sizeHint,
  },
});

/** @internal The body compressed with the algorithm of `code`. */
export function compress(code: number, input: Uint8Array): Buffer {
  if (code === 1) return zlib.gzipSync(input);
  if (code === 2) return zlib.deflateRawSync(input);
  return zlib.brotliCompressSync(input, BROTLI_PARAMS(input.length));
}

/** @internal The body decompressed, refusing to grow past `maxOutputLength`. */
export function decompress(code: number, input: Uint8Array, maxOutputLength: number): Buffer {
  const options = { maxOutputLength };
  if (code === 1) return zlib.gunzipSync(input, options);
  if (code === 2) return zlib.inflateRawSync(input, options);
  return zlib.brotliDecompressSync(input, options);
}

// Random IVs come from a pool refilled a few kilobytes at a time: one randomFillSync per value
// would cost more than the encryption of a small value itself. Bytes are never handed out twice.
const ivPool = Buffer.alloc(IV_BYTES * 512);
let ivOffset = ivPool.length;

/** @internal Writes a fresh random IV into `target` at `offset`. */
export function writeRandomIv(target: Buffer, offset: number): void {
  if (ivOffset + IV_BYTES > ivPool.length) {
    randomFillSync(ivPool);
    ivOffset = 0;
  }
  ivPool.copy(target, offset, ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
}

/** @internal A decode failure: the reason is for code, the detail for people; both say what was found. */
export function decodeError(
  length: number,
  reason: string,
  detail: string,
  context: Record<string, unknown> = {},
  cause?: unknown,
): CacheCodecError {
  return new CacheCodecError(
    `Cannot decode cache entry (${length} bytes): ${detail}`,
    { reason, byteLength: length, ...context },
    cause,
  );
}

import { createCipheriv, createDecipheriv } from 'node:crypto';
import { crc32 } from './codec-crc32.js';
import {
  ALGORITHM_NAMES,
  CRC_BYTES,
  decodeError,
  decompress,
  FLAG_BOUND,
  FLAG_COMPRESSION,
  FLAG_ENCRYPTED,
  FLAG_RESERVED,
  IV_BYTES,
  MAGIC,
  TAG_BYTES,
  VERSION,
  writeRandomIv,
} from './codec-frame.js';
import type { ResolvedEncryption } from './codec-options.js';

// The envelope around a serialized value (layout in codec-frame.ts): written around a body that
// is already compressed, and opened back to that body, checked, decrypted and decompressed.

/**
 * @internal An entry: the header, then `body` encrypted with the current key (the header and
 * `extra` authenticated), or `body` followed by the CRC of everything before it and of `extra`.
 *
 * @param flags - the flags so far (compression, escaping, binding); encryption is added here.
 * @param serializedLength - the body's size before compression, stored when `compressed`.
 */
export function sealEnvelope(
  body: Uint8Array,
  flags: number,
  serializedLength: number,
  compressed: boolean,
  encryption: ResolvedEncryption | null,
  extra: Buffer | undefined,
): Buffer {
  let headerLength = 3;
  if (compressed) headerLength += 4;
  if (encryption) headerLength += 1 + encryption.currentKeyId.length + IV_BYTES;
  const totalLength = headerLength + body.length + (encryption ? TAG_BYTES : CRC_BYTES);
  const out = Buffer.allocUnsafe(totalLength);
  out[0] = MAGIC;
  out[1] = VERSION;
  let offset = 3;
  if (compressed) offset = out.writeUInt32BE(serializedLength, offset);
  if (encryption) {
    flags |= FLAG_ENCRYPTED;
    out[2] = flags;
    out[offset++] = encryption.currentKeyId.length;
    offset += encryption.currentKeyId.copy(out, offset);
    writeRandomIv(out, offset);
    const iv = out.subarray(offset, offset + IV_BYTES);
    offset += IV_BYTES;
    const cipher = createCipheriv('aes-256-gcm', encryption.currentKey, iv, {
      authTagLength: TAG_BYTES,
    });
    const header = out.subarray(0, offset);
    cipher.setAAD(extra ? Buffer.concat([header, extra]) : header);
    offset += cipher.update(body).copy(out, offset);
    offset += cipher.final().copy(out, offset);
    cipher.getAuthTag().copy(out, offset);
  } else {
    out[2] = flags;
    out.set(body, offset);
    offset += body.length;
    let checksum = crc32(out.subarray(0, offset));
    if (extra) checksum = crc32(extra, checksum);
    out.writeUInt32BE(checksum, offset);
  }
  return out;
}

/**
 * @internal The serialized body of an entry and its flags: the header checked against what this
 * codec reads (`kind` is `FLAG_BOUND` for an entry bound to its metadata, else 0), the trailer
 * checked and the body decrypted and decompressed, never past `maxDecodedBytes`.
 *
 * @throws {@link CacheCodecError} with the reason the entry was refused.
 */
export function openEnvelope(
  bytes: Uint8Array,
  extra: Buffer | undefined,
  kind: number,
  encryption: ResolvedEncryption | null,
  maxDecodedBytes: number,
): { body: Buffer; flags: number } {
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = input.length;
  if (length === 0) throw decodeError(length, 'truncated', 'it is truncated');
  if (input[0] !== MAGIC) {
    throw decodeError(
      length,
      'not-an-entry',
      'it does not start with the codec magic byte 0xC1 (not written by this codec)',
    );
  }
  if (length < 3) throw decodeError(length, 'truncated', 'it is truncated');
  const version = input[1]!;
  if (version !== VERSION) {
    throw decodeError(
      length,
      'unsupported-version',
      `format version ${version} is not supported (this build reads version ${VERSION})`,
      { version },
    );
  }
  const flags = input[2]!;
  if (flags & FLAG_RESERVED) {
    throw decodeError(length, 'unsupported-flags', `unknown flags 0x${flags.toString(16)}`, {
      flags,
    });
  }
  if ((flags & FLAG_BOUND) !== kind) {
    throw kind === FLAG_BOUND
      ? decodeError(
          length,
          'unbound-entry',
          'it is not bound to its metadata (written by encode(), or by an earlier release); read it with decode()',
        )
      : decodeError(
          length,
          'bound-entry',
          'it is bound to its metadata (written by encodeEntry()); read it with decodeEntry()',
        );
  }
  const algorithm = flags & FLAG_COMPRESSION;
  let offset = 3;
  let decodedLength = 0;
  if (algorithm !== 0) {
    if (length < offset + 4) throw decodeError(length, 'truncated', 'it is truncated');
    decodedLength = input.readUInt32BE(offset);
    offset += 4;
  }

  let body: Buffer;
  if (flags & FLAG_ENCRYPTED) {
    if (!encryption) {
      throw decodeError(
        length,
        'encryption-not-configured',
        'it is encrypted but this codec has no encryption keys',
      );
    }
    if (length < offset + 1) throw decodeError(length, 'truncated', 'it is truncated');
    const idLength = input[offset]!;
    if (length < offset + 1 + idLength + IV_BYTES + TAG_BYTES)
      throw decodeError(length, 'truncated', 'it is truncated');
    if (idLength === 0) throw decodeError(length, 'malformed', 'its key id is empty');
    const id = input.subarray(offset + 1, offset + 1 + idLength);
    offset += 1 + idLength;
    const key = encryption.keys.get(id.toString('latin1'));
    if (!key) {
      const keyId = id.toString('utf8');
      throw decodeError(
        length,
        'unknown-key-id',
        `it is encrypted with key id ${JSON.stringify(keyId)}, which is not in encryption.keys`,
        { keyId },
      );
    }
    const iv = input.subarray(offset, offset + IV_BYTES);
    offset += IV_BYTES;
    const header = input.subarray(0, offset);
    const tag = input.subarray(length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(tag);
      decipher.setAAD(extra ? Buffer.concat([header, extra]) : header);
      const first = decipher.update(input.subarray(offset, length - TAG_BYTES));
      const last = decipher.final();
      body = last.length === 0 ? first : Buffer.concat([first, last]);
    } catch (error) {
      throw decodeError(
        length,
        'authentication-failed',
        'authentication failed: the entry was modified or truncated, the key is wrong, or the associated data differs',
        { keyId: id.toString('utf8') },
        error,
      );
    }
  } else {
    if (encryption) {
      throw decodeError(
        length,
        'not-encrypted',
        'it is not encrypted, but this codec requires encryption',
      );
    }
    if (length < offset + CRC_BYTES) throw decodeError(length, 'truncated', 'it is truncated');
    let checksum = crc32(input.subarray(0, length - CRC_BYTES));
    if (extra) checksum = crc32(extra, checksum);
    if (checksum !== input.readUInt32BE(length - CRC_BYTES)) {
      throw decodeError(
        length,
        'checksum-mismatch',
        'checksum mismatch: the entry was modified or truncated, or the associated data differs',
      );
    }
    body = input.subarray(offset, length - CRC_BYTES);
  }

  if (algorithm !== 0) {
    const name = ALGORITHM_NAMES[algorithm];
    if (decodedLength > maxDecodedBytes) {
      throw decodeError(
        length,
        'too-large',
        `it decompresses to ${decodedLength} bytes, more than maxDecodedBytes (${maxDecodedBytes})`,
        { decodedLength, maxDecodedBytes },
      );
    }
    if (decodedLength === 0) throw decodeError(length, 'malformed', 'its decoded length is 0');
    let output: Buffer;
    try {
      // Capped at the length the header announces, itself capped above: a bomb stops there.
      output = decompress(algorithm, body, decodedLength);
    } catch (error) {
      throw decodeError(
        length,
        'decompression-failed',
        `${name} decompression failed (${error instanceof Error ? error.message : String(error)})`,
        { algorithm: name },
        error,
      );
    }
    if (output.length !== decodedLength) {
      throw decodeError(
        length,
        'decompression-failed',
        `${name} decompression produced ${output.length} bytes instead of ${decodedLength}`,
        { algorithm: name },
      );
    }
    body = output;
  } else if (body.length > maxDecodedBytes) {
    throw decodeError(
      length,
      'too-large',
      `its body is ${body.length} bytes, more than maxDecodedBytes (${maxDecodedBytes})`,
      { maxDecodedBytes },
    );
  }
  return { body, flags };
}

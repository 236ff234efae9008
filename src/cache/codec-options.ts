import { createSecretKey, type KeyObject } from 'node:crypto';
import { describeValue, InvalidArgumentError } from '../core/errors.js';
import { ALGORITHM_CODES, type CompressionAlgorithm } from './codec-frame.js';

export type { CompressionAlgorithm } from './codec-frame.js';

/**
 * When and how the codec compresses encoded values.
 *
 * @example
 * ```ts
 * new CacheCodec({ compression: { thresholdBytes: 4096, algorithm: 'brotli' } });
 * ```
 */
export interface CompressionOptions {
  /**
   * Values whose serialized form is larger than this many bytes are compressed; smaller ones are
   * stored as they are (compressing a few hundred bytes costs more time than it saves space).
   * @defaultValue 1024
   */
  thresholdBytes?: number;
  /**
   * `deflate` (raw DEFLATE, level 6), `gzip` (the same DEFLATE stream inside an 18-byte gzip
   * wrapper, kept for interoperability) or `brotli` (quality 5, not Node's slow default of 11).
   * `deflate` is faster both ways, `brotli` output is smaller. A cache reads far more than it
   * writes, so the default is `deflate`; choose `brotli` when memory in Redis or the database
   * matters more than latency.
   * @defaultValue 'deflate'
   */
  algorithm?: CompressionAlgorithm;
}

/**
 * AES-256-GCM encryption of encoded values, with key ids so keys can be rotated.
 *
 * @example
 * ```ts
 * const encryption = {
 *   keys: { '2024-01': process.env.CACHE_KEY_OLD!, '2024-06': process.env.CACHE_KEY! },
 *   currentKeyId: '2024-06',
 * };
 * ```
 */
export interface EncryptionOptions {
  /**
   * Key ids (1 to 255 bytes of UTF-8; a number such as `1` works too) mapped to 32-byte keys: a
   * `Uint8Array`/`Buffer`, or a string holding 64 hex digits or the base64 / base64url form of the
   * 32 bytes (`openssl rand -base64 32`). Keep old keys here for as long as entries written with
   * them may still be read.
   */
  keys: Record<string, Uint8Array | string>;
  /** The key id new values are encrypted with; it must be one of `keys`. */
  currentKeyId: string | number;
}

/**
 * Options of {@link CacheCodec}.
 *
 * @example
 * ```ts
 * const codec = new CacheCodec({
 *   compression: { thresholdBytes: 2048 },
 *   encryption: { keys: { k1: process.env.CACHE_KEY! }, currentKeyId: 'k1' },
 *   maxDecodedBytes: 16 * 1024 * 1024,
 * });
 * ```
 */
export interface CodecOptions {
  /**
   * Compression of values larger than a threshold with node:zlib. `false` disables it; `true` or
   * an object enables it (an object may override the threshold and the algorithm).
   * @defaultValue `{ thresholdBytes: 1024, algorithm: 'deflate' }`
   */
  compression?: boolean | CompressionOptions;
  /**
   * AES-256-GCM encryption. When set, every value is encrypted and entries that are not encrypted
   * are refused at decode (otherwise anyone able to write to the store could plant a value).
   */
  encryption?: EncryptionOptions;
  /**
   * The largest serialized value, in bytes, that `encode` produces and `decode` accepts after
   * decompression. It guards the process against decompression bombs and runaway entries.
   * @defaultValue 67108864 (64 MiB)
   */
  maxDecodedBytes?: number;
}

/**
 * Counters of a {@link CacheCodec} since it was created.
 *
 * @example
 * ```ts
 * const { bytesAfterCompression, bytesBeforeCompression } = codec.stats();
 * const ratio = bytesBeforeCompression ? bytesAfterCompression / bytesBeforeCompression : 1;
 * ```
 */
export interface CodecStats {
  /** Values encoded successfully. */
  encoded: number;
  /** Entries decoded successfully. */
  decoded: number;
  /** Entries `decode` refused (each one threw a {@link CacheCodecError}). */
  decodeErrors: number;
  /** Encoded values stored compressed (compression is skipped when it would not save bytes). */
  compressed: number;
  /** Serialized size of the values stored compressed, before compression. */
  bytesBeforeCompression: number;
  /** Compressed size of the same values. */
  bytesAfterCompression: number;
}

const KEY_BYTES = 32;
const DEFAULT_THRESHOLD_BYTES = 1024;
/** @internal The default of {@link CodecOptions.maxDecodedBytes}. */
export const DEFAULT_MAX_DECODED_BYTES = 64 * 1024 * 1024;
/** @internal The largest {@link CodecOptions.maxDecodedBytes} (the frame stores 32 bits). */
export const MAX_DECODED_BYTES_LIMIT = 0xffff_ffff;

/** @internal The encryption options checked: keys by id, and the current one. */
export interface ResolvedEncryption {
  /** Key ids as the bytes of their UTF-8 form read as latin1, so lookups compare exact bytes. */
  keys: Map<string, KeyObject>;
  currentKey: KeyObject;
  currentKeyId: Buffer;
}

/** @internal The error of a codec option that is not what it should be. */
export function invalid(argument: string, value: unknown, expected: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `${argument}=${describeValue(value)} is invalid: expected ${expected}`,
    { argument, value, expected },
  );
}

/**
 * Key material never reaches an error message or context: only its type and length do.
 */
function parseKey(argument: string, raw: unknown): KeyObject {
  const expected =
    'a 32-byte key: a Uint8Array of 32 bytes, 64 hex digits, or the base64/base64url form of 32 bytes';
  let bytes: Buffer | undefined;
  let described: string;
  if (raw instanceof Uint8Array) {
    described = `a ${raw.length}-byte key`;
    if (raw.length === KEY_BYTES) bytes = Buffer.from(raw);
  } else if (typeof raw === 'string') {
    described = `a ${raw.length}-character string`;
    if (/^[0-9a-fA-F]{64}$/.test(raw)) bytes = Buffer.from(raw, 'hex');
    else if (/^(?:[A-Za-z0-9+/]{43}=?|[A-Za-z0-9_-]{43}=?)$/.test(raw)) {
      bytes = Buffer.from(raw, 'base64');
    }
  } else {
    described = raw === null ? 'null' : typeof raw;
  }
  if (bytes?.length !== KEY_BYTES) {
    throw new InvalidArgumentError(`${argument} is invalid (${described}): expected ${expected}`, {
      argument,
      value: `<${described}, redacted>`,
      expected,
    });
  }
  const key = createSecretKey(bytes);
  bytes.fill(0);
  return key;
}

/** @internal The encryption options checked, keys parsed. */
export function resolveEncryption(options: EncryptionOptions): ResolvedEncryption {
  if (typeof options !== 'object' || options === null) {
    throw invalid('encryption', options, 'an object { keys, currentKeyId }');
  }
  const { keys, currentKeyId } = options;
  if (typeof keys !== 'object' || keys === null || Object.keys(keys).length === 0) {
    throw new InvalidArgumentError(
      'encryption.keys is invalid: expected an object mapping key ids to 32-byte keys, with at least one key',
      {
        argument: 'encryption.keys',
        value: keys === null ? null : typeof keys,
        expected: 'an object mapping key ids to 32-byte keys',
      },
    );
  }
  const resolved = new Map<string, KeyObject>();
  for (const [id, raw] of Object.entries(keys)) {
    const idBytes = Buffer.from(id, 'utf8');
    if (idBytes.length < 1 || idBytes.length > 255) {
      throw invalid('encryption.keys', id, 'key ids of 1 to 255 bytes of UTF-8');
    }
    resolved.set(
      idBytes.toString('latin1'),
      parseKey(`encryption.keys[${JSON.stringify(id)}]`, raw),
    );
  }
  const current =
    typeof currentKeyId === 'number' || typeof currentKeyId === 'string'
      ? String(currentKeyId)
      : undefined;
  const currentIdBytes = current === undefined ? undefined : Buffer.from(current, 'utf8');
  const currentKey = currentIdBytes && resolved.get(currentIdBytes.toString('latin1'));
  if (!currentIdBytes || !currentKey) {
    throw invalid(
      'encryption.currentKeyId',
      currentKeyId,
      `one of the ids in encryption.keys (${Object.keys(keys)
        .map((id) => JSON.stringify(id))
        .join(', ')})`,
    );
  }
  return { keys: resolved, currentKey, currentKeyId: currentIdBytes };
}

/** @internal The compression options checked: `null` for none. */
export function resolveCompression(
  option: CodecOptions['compression'],
): { threshold: number; code: number } | null {
  if (option === false) return null;
  if (option === undefined || option === true) {
    return { threshold: DEFAULT_THRESHOLD_BYTES, code: ALGORITHM_CODES.deflate };
  }
  if (typeof option !== 'object' || option === null) {
    throw invalid('compression', option, 'false, true or { thresholdBytes?, algorithm? }');
  }
  const threshold = option.thresholdBytes ?? DEFAULT_THRESHOLD_BYTES;
  if (!Number.isSafeInteger(threshold) || threshold < 0) {
    throw invalid(
      'compression.thresholdBytes',
      threshold,
      'a non-negative integer number of bytes',
    );
  }
  const algorithm = option.algorithm ?? 'deflate';
  if (!Object.hasOwn(ALGORITHM_CODES, algorithm)) {
    throw invalid('compression.algorithm', algorithm, "'deflate', 'gzip' or 'brotli'");
  }
  return { threshold, code: ALGORITHM_CODES[algorithm] };
}

/** @internal Associated data as bytes; throws for anything but a string or bytes. */
export function toBytes(data: string | Uint8Array | undefined): Buffer | undefined {
  if (data === undefined) return undefined;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw invalid('associatedData', data, 'a string or a Uint8Array');
}

import { createRequire } from 'node:module';
import type { Packr } from 'msgpackr';
import { describeValue } from '../core/errors.js';
import { entryBinding } from './codec-binding.js';
import { openEnvelope, sealEnvelope } from './codec-envelope.js';
import { compress, decodeError, FLAG_BOUND, FLAG_ESCAPED } from './codec-frame.js';
import { escapeNegativeZero, restoreNegativeZero } from './codec-negative-zero.js';
import {
  type CodecOptions,
  type CodecStats,
  DEFAULT_MAX_DECODED_BYTES,
  invalid,
  MAX_DECODED_BYTES_LIMIT,
  type ResolvedEncryption,
  resolveCompression,
  resolveEncryption,
  toBytes,
} from './codec-options.js';
import { ValueScanner } from './codec-values.js';
import { CacheCodecError } from './errors.js';
import type { EntryMeta } from './types.js';

export type {
  CodecOptions,
  CodecStats,
  CompressionAlgorithm,
  CompressionOptions,
  EncryptionOptions,
} from './codec-options.js';

/** After serializing a value this large, the serializer is replaced so it does not keep the buffer. */
const LARGE_VALUE_BYTES = 1024 * 1024;

function refuseFunctions(): never {
  // The scanner refuses functions first, with their path; this is the second line of defence.
  throw new TypeError('a function cannot be encoded');
}

/**
 * msgpackr, loaded when the first codec is built: importing it loads a native addon and reads
 * the file system, which importing this package must not do.
 */
let msgpackr: typeof import('msgpackr') | undefined;
function loadMsgpackr(): typeof import('msgpackr') {
  msgpackr ??= createRequire(import.meta.url)('msgpackr') as typeof import('msgpackr');
  return msgpackr;
}

function createPackr(structuredClone: boolean): Packr {
  return new (loadMsgpackr().Packr)({
    // Records (the default) keep plain objects and Maps apart; each entry carries its own record
    // definitions (no shared structures), so any process can read it.
    moreTypes: true,
    structuredClone,
    // toJSON is an API shape, not the state to store; and useToJSON would hide class instances.
    useToJSON: false,
    writeFunction: refuseFunctions,
  });
}

// ---------------------------------------------------------------------------------------------
// The codec
// ---------------------------------------------------------------------------------------------

/**
 * Turns cache values into bytes for the remote tiers (Redis, SQL) and back: MessagePack through
 * msgpackr, optional compression with node:zlib, optional AES-256-GCM encryption with key ids,
 * in a small versioned envelope protected by a CRC-32 or by the GCM tag.
 *
 * **What round-trips exactly:** `null`, `undefined` (also inside objects and arrays), booleans,
 * numbers including `NaN`, `±Infinity` and `-0`, bigints of any size, strings (any valid Unicode),
 * plain objects and arrays (nested, with shared references and cycles preserved), `Date` (also
 * invalid ones), `Map` (any keys), `Set`, `RegExp` (source and flags), `Buffer` (comes back as a
 * `Buffer`), `Uint8Array` and the other typed arrays, `ArrayBuffer`, `DataView`, and the built-in
 * errors (`Error`, `TypeError`, ..., `AggregateError`) with their name, message and cause.
 *
 * **Refused at `encode`** with a {@link CacheCodecError} naming the path (`value.user.save`):
 * functions, symbols, instances of classes other than the above (including their subclasses
 * and `WeakMap`, `Promise`, boxed primitives), strings with lone UTF-16 surrogates, own
 * `__proto__` properties, values nested deeper than 512 levels, and values whose serialized form
 * exceeds `maxDecodedBytes`.
 *
 * **Not kept** (as with `structuredClone`): symbol-keyed and non-enumerable properties, extra
 * properties on arrays, maps, sets, dates and errors, an error's `stack`, a RegExp's `lastIndex`,
 * array holes (they come back as `undefined`), null-prototype objects (they come back as plain
 * objects). Getters are read and their values stored.
 *
 * **Decoding never returns a wrong value**: a changed or missing byte, an unknown version, a key
 * id not configured, a wrong key, an oversized or malformed body all throw a
 * {@link CacheCodecError} (`E_CACHE_CODEC`, with `context.reason`), which the engine turns into a
 * miss and a `decode-error` event. With encryption configured, unencrypted entries are refused.
 *
 * Both methods are synchronous. One instance is not shared between threads (workers).
 *
 * @example
 * ```ts
 * const codec = new CacheCodec({
 *   encryption: { keys: { k1: process.env.CACHE_KEY! }, currentKeyId: 'k1' },
 * });
 * const bytes = codec.encode({ id: 1n, at: new Date(), tags: new Set(['a']) });
 * const value = codec.decode(bytes); // { id: 1n, at: Date, tags: Set { 'a' } }
 * ```
 */
export class CacheCodec {
  readonly #compression: { threshold: number; code: number } | null;
  readonly #encryption: ResolvedEncryption | null;
  readonly #maxDecodedBytes: number;
  #packr = createPackr(false);
  #clonePackr = createPackr(true);
  // An Unpackr, never a Packr: a Packr carries record structures from one call to the next, and
  // an entry must be read only with the record definitions it holds itself.
  readonly #unpackr = new (loadMsgpackr().Unpackr)({
    structuredClone: true,
    mapsAsObjects: false,
    int64AsType: 'bigint',
    // Decoded buffers must not be views of the entry: a tier may reuse the memory it read into.
    copyBuffers: true,
  });
  readonly #stats: CodecStats = {
    encoded: 0,
    decoded: 0,
    decodeErrors: 0,
    compressed: 0,
    bytesBeforeCompression: 0,
    bytesAfterCompression: 0,
  };

  /**
   * @param options - compression, encryption and size limit; see {@link CodecOptions}.
   * @throws {@link InvalidArgumentError} (`E_INVALID_ARGUMENT`) for an invalid option, notably a
   *   key that is not 32 bytes or a `currentKeyId` that is not among the keys. The error names
   *   the option and never includes key material.
   * @example
   * ```ts
   * const plain = new CacheCodec();
   * const compact = new CacheCodec({ compression: { algorithm: 'brotli' } });
   * ```
   */
  constructor(options: CodecOptions = {}) {
    this.#compression = resolveCompression(options.compression);
    this.#encryption =
      options.encryption === undefined ? null : resolveEncryption(options.encryption);
    const max = options.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
    if (!Number.isSafeInteger(max) || max < 1 || max > MAX_DECODED_BYTES_LIMIT) {
      throw invalid(
        'maxDecodedBytes',
        max,
        `an integer number of bytes from 1 to ${MAX_DECODED_BYTES_LIMIT}`,
      );
    }
    this.#maxDecodedBytes = max;
  }

  /**
   * Serializes `value` into a new entry (a `Buffer`).
   *
   * @param value - the value to store; see the class description for what is supported.
   * @param associatedData - optional bytes or text the entry is bound to, such as its namespace
   *   and key: `decode` must be given the same, so an entry copied under another key is refused
   *   (with encryption this is authenticated; without, it is part of the checksum).
   * @throws {@link CacheCodecError} (`E_CACHE_CODEC`) for a value that cannot be represented, with
   *   `context.path` and `context.type`; nothing is produced.
   * @example
   * ```ts
   * const bytes = codec.encode({ user, loadedAt: new Date() }, `users:${id}`);
   * codec.encode({ save() {} }); // CacheCodecError: Cannot encode cache value: value.save is a function (save)
   * ```
   */
  encode(value: unknown, associatedData?: string | Uint8Array): Uint8Array {
    return this.#encode(value, toBytes(associatedData), 0);
  }

  /**
   * Serializes the value of a cache entry, bound to its namespace, its key and the metadata the
   * tier stores beside it: {@link CacheCodec.decodeEntry} refuses it under another key or with
   * other times or tags. With encryption this is authenticated, so rewriting what a tier keeps
   * outside the entry (expiry, tags) is detected; without, it is only part of the checksum.
   *
   * @param meta - the times and tags the tiers are given with the bytes; times must survive the
   *   tiers exactly (the engine uses whole milliseconds), tags may come back in any order.
   * @throws {@link CacheCodecError} as {@link CacheCodec.encode}.
   * @example
   * ```ts
   * const meta = { createdAt: now, expiresAt: now + 60_000, staleUntil: now + 60_000, tags: ['user:1'] };
   * const bytes = codec.encodeEntry(user, 'users', 'user:1', meta);
   * ```
   */
  encodeEntry(value: unknown, namespace: string, key: string, meta: EntryMeta): Uint8Array {
    return this.#encode(value, entryBinding(namespace, key, meta), FLAG_BOUND);
  }

  #encode(value: unknown, extra: Buffer | undefined, kind: number): Uint8Array {
    let flags = kind;
    let body: Uint8Array;
    try {
      const scanner = new ValueScanner();
      scanner.visit(value, 0);
      const packr = scanner.shared || scanner.negativeZero ? this.#clonePackr : this.#packr;
      if (scanner.negativeZero) {
        const marker = {};
        body = packr.pack([marker, escapeNegativeZero(value, marker, new Map())]);
        flags |= FLAG_ESCAPED;
      } else {
        body = packr.pack(value);
      }
    } catch (error) {
      if (error instanceof CacheCodecError) throw error;
      // A getter or a proxy trap that throws, a stack overflow, or msgpackr itself.
      this.#resetPackrs();
      const tooDeep = error instanceof RangeError && /call stack/i.test(error.message);
      throw new CacheCodecError(
        tooDeep
          ? 'Cannot encode cache value: it is nested too deeply for the serializer'
          : `Cannot encode cache value: reading or serializing it threw (${error instanceof Error ? error.message : String(error)})`,
        { reason: tooDeep ? 'too-deep' : 'serializer-failed' },
        error,
      );
    }
    const serializedLength = body.length;
    if (serializedLength > this.#maxDecodedBytes) {
      throw new CacheCodecError(
        `Cannot encode cache value: it serializes to ${serializedLength} bytes, more than maxDecodedBytes (${this.#maxDecodedBytes})`,
        {
          reason: 'too-large',
          byteLength: serializedLength,
          maxDecodedBytes: this.#maxDecodedBytes,
        },
      );
    }

    const compression = this.#compression;
    let compressed = false;
    if (compression !== null && serializedLength > compression.threshold) {
      const output = compress(compression.code, body);
      // Incompressible data (already compressed, random) is stored as it is.
      if (output.length < serializedLength) {
        body = output;
        flags |= compression.code;
        compressed = true;
      }
    }

    const out = sealEnvelope(body, flags, serializedLength, compressed, this.#encryption, extra);

    if (serializedLength > LARGE_VALUE_BYTES) this.#resetPackrs();
    const stats = this.#stats;
    stats.encoded++;
    if (compressed) {
      stats.compressed++;
      stats.bytesBeforeCompression += serializedLength;
      stats.bytesAfterCompression += body.length;
    }
    return out;
  }

  /**
   * Reads an entry produced by {@link CacheCodec.encode} (by this or another process with the same
   * keys) back into its value.
   *
   * @param bytes - the entry as the tier returned it.
   * @param associatedData - the same associated data given to `encode`, if any.
   * @throws {@link CacheCodecError} (`E_CACHE_CODEC`) when the entry is not exactly what an encoder
   *   produced: truncated, modified, of an unknown version, encrypted with a key id this codec does
   *   not have or with another key, not encrypted while encryption is configured, or larger than
   *   `maxDecodedBytes` once decompressed. `context.reason` says which; the value is never guessed.
   * @example
   * ```ts
   * try {
   *   return codec.decode(bytes, `users:${id}`);
   * } catch (error) {
   *   if (error instanceof CacheCodecError) return undefined; // treat as a miss
   *   throw error;
   * }
   * ```
   */
  decode(bytes: Uint8Array, associatedData?: string | Uint8Array): unknown {
    const extra = toBytes(associatedData); // a caller's mistake, not a bad entry: not wrapped
    return this.#decodeCounted(bytes, extra, 0);
  }

  /**
   * Reads an entry produced by {@link CacheCodec.encodeEntry}, given the namespace, the key and
   * the metadata the tier returned with it: any of them different from what was encoded (a
   * rewritten expiry, a removed tag, an entry copied under another key) fails the check.
   *
   * @throws {@link CacheCodecError} as {@link CacheCodec.decode}; an entry written by `encode`
   *   (not bound to its metadata) is refused with reason `unbound-entry`.
   * @example
   * ```ts
   * const stored = await tier.get('users', 'user:1');
   * const user = stored && codec.decodeEntry(stored.payload, 'users', 'user:1', stored);
   * ```
   */
  decodeEntry(bytes: Uint8Array, namespace: string, key: string, meta: EntryMeta): unknown {
    let binding: Buffer;
    try {
      binding = entryBinding(namespace, key, meta);
    } catch (error) {
      // Metadata a tier could not hand back well-formed (a time that is not a number, say).
      this.#stats.decodeErrors++;
      throw new CacheCodecError(
        `Cannot decode cache entry: its metadata is invalid (${error instanceof Error ? error.message : String(error)})`,
        { reason: 'invalid-metadata' },
        error,
      );
    }
    return this.#decodeCounted(bytes, binding, FLAG_BOUND);
  }

  #decodeCounted(bytes: Uint8Array, extra: Buffer | undefined, kind: number): unknown {
    try {
      const value = this.#decode(bytes, extra, kind);
      this.#stats.decoded++;
      return value;
    } catch (error) {
      this.#stats.decodeErrors++;
      if (error instanceof CacheCodecError) throw error;
      throw new CacheCodecError(
        `Cannot decode cache entry: ${error instanceof Error ? error.message : String(error)}`,
        { reason: 'malformed' },
        error,
      );
    }
  }

  /**
   * The codec's counters since it was created (a copy).
   *
   * @example
   * ```ts
   * const { encoded, decodeErrors } = codec.stats();
   * ```
   */
  stats(): CodecStats {
    return { ...this.#stats };
  }

  #decode(bytes: Uint8Array, extra: Buffer | undefined, kind: number): unknown {
    if (!(bytes instanceof Uint8Array)) {
      throw new CacheCodecError(
        `Cannot decode cache entry: expected a Uint8Array, got ${describeValue(bytes)}`,
        { reason: 'invalid-input', type: typeof bytes },
      );
    }
    const length = bytes.byteLength;
    const { body, flags } = openEnvelope(
      bytes,
      extra,
      kind,
      this.#encryption,
      this.#maxDecodedBytes,
    );
    let value: unknown;
    try {
      value = this.#unpackr.unpack(body);
    } catch (error) {
      throw decodeError(
        length,
        'malformed',
        `its MessagePack body is invalid (${error instanceof Error ? error.message : String(error)})`,
        {},
        error,
      );
    }
    if (flags & FLAG_ESCAPED) {
      if (
        !Array.isArray(value) ||
        value.length !== 2 ||
        typeof value[0] !== 'object' ||
        value[0] === null
      ) {
        throw decodeError(length, 'malformed', 'its escaped body is not [marker, value]');
      }
      return restoreNegativeZero(value[1], value[0]);
    }
    return value;
  }

  /** Fresh serializers: after a failure mid-value, or to drop the buffer a large value grew. */
  #resetPackrs(): void {
    this.#packr = createPackr(false);
    this.#clonePackr = createPackr(true);
  }
}

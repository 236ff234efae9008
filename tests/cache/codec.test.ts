import { randomBytes } from 'node:crypto';
import * as vm from 'node:vm';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CacheCodec, type CodecOptions } from '../../src/cache/codec.js';
import { crc32, crc32Js } from '../../src/cache/codec-crc32.js';
import { CacheCodecError } from '../../src/cache/errors.js';
import { InvalidArgumentError } from '../../src/core/errors.js';

// --- helpers -------------------------------------------------------------------------------------

const KEY_1 = randomBytes(32);
const KEY_2 = randomBytes(32);

const roundTrip = (value: unknown, options?: CodecOptions): unknown => {
  const codec = new CacheCodec(options);
  return codec.decode(codec.encode(value));
};

/** Runs `fn`, expecting a CacheCodecError, and returns it. */
function codecError(fn: () => unknown): CacheCodecError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CacheCodecError);
    expect((error as CacheCodecError).code).toBe('E_CACHE_CODEC');
    return error as CacheCodecError;
  }
  throw new Error('expected a CacheCodecError, but nothing was thrown');
}

function invalidArgument(fn: () => unknown): InvalidArgumentError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).code).toBe('E_INVALID_ARGUMENT');
    return error as InvalidArgumentError;
  }
  throw new Error('expected an InvalidArgumentError, but nothing was thrown');
}

const flagsOf = (entry: Uint8Array) => entry[2]!;
const compressionOf = (entry: Uint8Array) => flagsOf(entry) & 0b11;
const isEncrypted = (entry: Uint8Array) => (flagsOf(entry) & 0b100) !== 0;

function keyIdOf(entry: Uint8Array): string {
  const offset = 3 + (compressionOf(entry) ? 4 : 0);
  const length = entry[offset]!;
  return Buffer.from(entry.subarray(offset + 1, offset + 1 + length)).toString('utf8');
}

/** An unencrypted entry around `body` with a valid checksum, as an attacker or a bug could write. */
function sealPlain(body: Uint8Array, flags = 0, decodedLength?: number): Buffer {
  const header = Buffer.from([0xc1, 1, flags]);
  const length = Buffer.alloc(decodedLength === undefined ? 0 : 4);
  if (decodedLength !== undefined) length.writeUInt32BE(decodedLength);
  const content = Buffer.concat([header, length, body]);
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(crc32(content));
  return Buffer.concat([content, trailer]);
}

/** A JSON-like value of about `count` KB once serialized. */
function document(count = 1) {
  return {
    id: 'usr_42',
    name: 'Ada Lovelace',
    createdAt: new Date('2024-03-01T12:00:00.000Z'),
    roles: ['admin', 'editor'],
    orders: Array.from({ length: 12 * count }, (_, i) => ({
      id: `ord_${i}`,
      total: 19.99 * (i + 1),
      currency: 'EUR',
      status: i % 2 ? 'shipped' : 'pending',
    })),
  };
}

// --- round trips ---------------------------------------------------------------------------------

describe('CacheCodec round trips', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['true', true],
    ['false', false],
    ['zero', 0],
    ['a small integer', 42],
    ['a negative integer', -7],
    ['a 32-bit boundary', 2 ** 32],
    ['a float', 1.5],
    ['MAX_SAFE_INTEGER', Number.MAX_SAFE_INTEGER],
    ['MAX_VALUE', Number.MAX_VALUE],
    ['MIN_VALUE', Number.MIN_VALUE],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['an empty string', ''],
    ['ASCII', 'hello'],
    ['accents, CJK and RTL', 'héllo 日本語 עברית'],
    ['astral emoji and ZWJ sequences', '😀 👩‍👩‍👧 🏳️‍🌈'],
    ['control characters and NUL', '\u0000\u0001\n\t\u007f'],
    ['noncharacters and BOM', '\ufeff\uffff\u{10ffff}'],
    ['a long string', 'x'.repeat(200_000)],
  ])('%s', (_, value) => {
    expect(roundTrip(value)).toStrictEqual(value);
  });

  it('keeps NaN and -0', () => {
    expect(roundTrip(Number.NaN)).toBeNaN();
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
    expect(Object.is(roundTrip(0), 0)).toBe(true);
  });

  it('keeps -0 wherever it is, also in cyclic values, without disturbing other numbers', () => {
    const value: Record<string, unknown> = {
      zero: 0,
      negative: -0,
      list: [-0, 0, 1, -1],
      map: new Map<unknown, unknown>([
        ['a', -0],
        ['b', 0],
      ]),
      error: new RangeError('r', { cause: -0 }),
      nested: { deeper: [{ z: -0 }] },
    };
    value.self = value;
    const decoded = roundTrip(value) as typeof value & {
      list: number[];
      map: Map<string, number>;
      error: Error;
      nested: { deeper: [{ z: number }] };
    };
    expect(Object.is(decoded.zero, 0)).toBe(true);
    expect(Object.is(decoded.negative, -0)).toBe(true);
    expect(decoded.list.map((n) => Object.is(n, -0))).toEqual([true, false, false, false]);
    expect(Object.is(decoded.map.get('a'), -0)).toBe(true);
    expect(Object.is(decoded.map.get('b'), 0)).toBe(true);
    expect(Object.is(decoded.error.cause, -0)).toBe(true);
    expect(Object.is(decoded.nested.deeper[0].z, -0)).toBe(true);
    expect(decoded.self).toBe(decoded);
  });

  it('only takes the escaping path for values that hold -0', () => {
    const codec = new CacheCodec();
    expect(flagsOf(codec.encode({ a: [0, 1.5, -1] })) & 0b1000).toBe(0);
    expect(flagsOf(codec.encode({ a: [0, -0] })) & 0b1000).toBe(0b1000);
  });

  it.each([
    ['0n', 0n],
    ['1n', 1n],
    ['-1n', -1n],
    ['int64 max', 2n ** 63n - 1n],
    ['int64 min', -(2n ** 63n)],
    ['uint64 max', 2n ** 64n - 1n],
    ['2^64', 2n ** 64n],
    ['-(2^64) - 1', -(2n ** 64n) - 1n],
    ['2^200', 2n ** 200n],
    ['-(2^1000) + 7', -(2n ** 1000n) + 7n],
    ['2^20000 + 1', 2n ** 20_000n + 1n],
  ])('bigint %s', (_, value) => {
    const decoded = roundTrip(value);
    expect(typeof decoded).toBe('bigint');
    expect(decoded).toBe(value);
  });

  it('keeps numbers and bigints apart', () => {
    expect(roundTrip([1, 1n, 2 ** 60, 2n ** 60n])).toStrictEqual([1, 1n, 2 ** 60, 2n ** 60n]);
  });

  it.each([
    ['now', new Date()],
    ['the epoch', new Date(0)],
    ['before 1970 with milliseconds', new Date(-1_234_567)],
    ['the largest date', new Date(8.64e15)],
    ['the smallest date', new Date(-8.64e15)],
  ])('Date: %s', (_, value) => {
    const decoded = roundTrip(value);
    expect(decoded).toBeInstanceOf(Date);
    expect((decoded as Date).getTime()).toBe(value.getTime());
  });

  it('keeps an invalid Date invalid', () => {
    const decoded = roundTrip(new Date(Number.NaN)) as Date;
    expect(decoded).toBeInstanceOf(Date);
    expect(decoded.getTime()).toBeNaN();
  });

  it('keeps Maps with any keys, and Sets', () => {
    const objectKey = { id: 1 };
    const value = {
      byString: new Map([
        ['a', 1],
        ['b', 2],
      ]),
      byAnything: new Map<unknown, unknown>([
        [1, 'one'],
        [objectKey, 'object'],
        [Number.NaN, 'nan'],
        [null, 'null'],
        [2n, 'bigint'],
      ]),
      set: new Set([1, 'a', { b: 2 }]),
      empty: [new Map(), new Set()],
    };
    const decoded = roundTrip(value) as typeof value;
    expect(decoded).toStrictEqual(value);
    expect(decoded.byString).toBeInstanceOf(Map);
    expect(decoded.byAnything.get(Number.NaN)).toBe('nan');
    expect([...decoded.byAnything.keys()][1]).toStrictEqual(objectKey);
    expect(decoded.set).toBeInstanceOf(Set);
  });

  it('gives a Buffer back as a Buffer and a Uint8Array as a Uint8Array, copied out of the entry', () => {
    const codec = new CacheCodec();
    const entry = codec.encode({
      buffer: Buffer.from('héllo'),
      bytes: new Uint8Array([1, 2, 3]),
      slice: Buffer.from('0123456789').subarray(2, 5),
    });
    const decoded = codec.decode(entry) as { buffer: Buffer; bytes: Uint8Array; slice: Buffer };
    expect(Buffer.isBuffer(decoded.buffer)).toBe(true);
    expect(decoded.buffer.toString()).toBe('héllo');
    expect(Buffer.isBuffer(decoded.bytes)).toBe(false);
    expect(decoded.bytes).toBeInstanceOf(Uint8Array);
    expect([...decoded.bytes]).toEqual([1, 2, 3]);
    expect(decoded.slice.toString()).toBe('234');
    // the tier may reuse the memory it read the entry into
    entry.fill(0);
    expect(decoded.buffer.toString()).toBe('héllo');
  });

  it('keeps typed arrays, ArrayBuffer and DataView', () => {
    const value = {
      f64: new Float64Array([1.5, -0, Number.NaN]),
      i16: new Int16Array([-2, 3]),
      u8c: new Uint8ClampedArray([255]),
      big: new BigInt64Array([-(2n ** 63n)]),
      ubig: new BigUint64Array([2n ** 64n - 1n]),
      arrayBuffer: new Uint8Array([9, 8]).buffer,
      dataView: new DataView(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2),
    };
    const decoded = roundTrip(value) as typeof value;
    expect(decoded).toStrictEqual(value);
    expect(decoded.f64).toBeInstanceOf(Float64Array);
    expect(Object.is(decoded.f64[1], -0)).toBe(true);
    expect(decoded.dataView.byteLength).toBe(2);
    expect(decoded.dataView.getUint8(0)).toBe(2);
  });

  it('keeps RegExp source and flags', () => {
    const decoded = roundTrip(/^a+(b|ç)\d{2,}$/giu) as RegExp;
    expect(decoded).toBeInstanceOf(RegExp);
    expect(decoded.source).toBe('^a+(b|ç)\\d{2,}$');
    expect(decoded.flags).toBe('giu');
  });

  it('keeps built-in errors: class, name, message and cause', () => {
    const named = new Error('bad input');
    named.name = 'ValidationError';
    const value = {
      type: new TypeError('boom', { cause: { code: 42 } }),
      range: new RangeError('out'),
      named,
      aggregate: new AggregateError([new Error('a'), new SyntaxError('b')], 'many'),
    };
    const decoded = roundTrip(value) as typeof value;
    expect(decoded.type).toBeInstanceOf(TypeError);
    expect(decoded.type.message).toBe('boom');
    expect(decoded.type.cause).toStrictEqual({ code: 42 });
    expect(decoded.range).toBeInstanceOf(RangeError);
    expect(decoded.named.name).toBe('ValidationError');
    expect(Object.getPrototypeOf(decoded.named)).toBe(Error.prototype);
    expect(decoded.aggregate).toBeInstanceOf(AggregateError);
    expect(decoded.aggregate.message).toBe('many');
    expect(decoded.aggregate.errors[1]).toBeInstanceOf(SyntaxError);
  });

  it('keeps nested objects and arrays, with undefined inside them', () => {
    const value = {
      a: undefined,
      b: [undefined, null, 1, [2, [3, { c: undefined }]]],
      nested: { deep: { deeper: { list: [{ x: 1 }, { y: 'z' }] } } },
      'key with spaces': 1,
      '': 'empty key',
      '123': 'numeric key',
      constructor: 'a property named constructor',
      'émoji 🔑': true,
    };
    const decoded = roundTrip(value) as typeof value;
    expect(decoded).toStrictEqual(value);
    expect('a' in decoded).toBe(true);
    expect(decoded.b).toHaveLength(4);
  });

  it('keeps shared references and cycles', () => {
    const shared = { n: 1 };
    const value: Record<string, unknown> = { left: shared, right: shared, list: [shared] };
    value.self = value;
    const map = new Map<string, unknown>();
    map.set('map', map);
    value.map = map;
    const decoded = roundTrip(value) as Record<string, any>;
    expect(decoded.left).toBe(decoded.right);
    expect(decoded.list[0]).toBe(decoded.left);
    expect(decoded.self).toBe(decoded);
    expect(decoded.map.get('map')).toBe(decoded.map);
  });

  it('decodes a null-prototype object as a plain object with the same properties', () => {
    const value = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1, b: [2] });
    const decoded = roundTrip(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect({ ...decoded }).toEqual({ a: 1, b: [2] });
  });

  it('accepts plain objects and arrays of another realm, and refuses its other types', () => {
    const foreign = vm.runInNewContext('({ list: [1, { b: "two" }], at: 3 })') as object;
    const decoded = roundTrip(foreign);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(decoded).toEqual({ list: [1, { b: 'two' }], at: 3 });
    const foreignMap = vm.runInNewContext('new Map([[1, 2]])') as object;
    expect(codecError(() => new CacheCodec().encode({ foreignMap })).context.path).toBe(
      'value.foreignMap',
    );
  });

  it('keeps values of many different shapes and objects with very many keys', () => {
    const shapes = Array.from({ length: 300 }, (_, i) => ({
      [`k${i}`]: i,
      inner: { [`n${i}`]: [i] },
    }));
    const wide = Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`key${i}`, i]));
    expect(roundTrip(shapes)).toStrictEqual(shapes);
    expect(roundTrip(wide)).toStrictEqual(wide);
  });

  it('writes entries any other instance can read, whatever it encoded before', () => {
    const writer = new CacheCodec();
    writer.encode({ a: 1, b: 2 });
    const second = writer.encode({ a: 3, b: 4 });
    expect(new CacheCodec().decode(second)).toStrictEqual({ a: 3, b: 4 });
    const reader = new CacheCodec();
    reader.decode(writer.encode({ a: 5, b: 6 }));
    expect(reader.decode(writer.encode({ b: 7, a: 8 }))).toStrictEqual({ b: 7, a: 8 });
  });

  it('round-trips values nested 500 levels deep', () => {
    let value: unknown = 'leaf';
    for (let i = 0; i < 500; i++) value = i % 2 ? [value] : { v: value };
    expect(roundTrip(value)).toStrictEqual(value);
  });

  it('round-trips a value of several megabytes and keeps working afterwards', () => {
    const codec = new CacheCodec({ compression: false });
    const large = {
      blob: Buffer.alloc(3 * 1024 * 1024, 7),
      list: Array.from({ length: 50_000 }, (_, i) => i),
    };
    const decoded = codec.decode(codec.encode(large)) as typeof large;
    // (compared by hand: a deep equality over megabytes of bytes is slow)
    expect(Buffer.isBuffer(decoded.blob) && decoded.blob.equals(large.blob)).toBe(true);
    expect(decoded.list.length).toBe(large.list.length);
    expect(decoded.list.every((n, i) => n === i)).toBe(true);
    expect(codec.decode(codec.encode({ small: true }))).toStrictEqual({ small: true });
  });
});

// --- values that cannot be encoded ---------------------------------------------------------------

describe('CacheCodec refuses what it cannot represent', () => {
  class Point {
    constructor(
      public x = 1,
      public y = 2,
    ) {}
  }
  class TaggedMap extends Map {}
  class DomainError extends Error {}
  const deep = () => {
    let value: unknown = 1;
    for (let i = 0; i < 600; i++) value = [value];
    return value;
  };
  const renamedTypeError = () => {
    const error = new TypeError('x');
    error.name = 'RangeError';
    return error;
  };

  it.each<[string, unknown, string | undefined, string]>([
    ['a function', () => 1, 'value', 'function'],
    ['a method of an object', { handlers: { onSave() {} } }, 'value.handlers.onSave', 'function'],
    ['a function in an array', [1, 2, () => 3], 'value[2]', 'function'],
    ['a toJSON method', { id: 1, toJSON: () => ({}) }, 'value.toJSON', 'function'],
    ['a symbol', Symbol('s'), 'value', 'symbol'],
    ['a symbol in a Map value', new Map([['k', Symbol.iterator]]), 'value<Map value #0>', 'symbol'],
    ['a function in a Set', new Set([1, () => 2]), 'value<Set item #1>', 'function'],
    ['a function in an error cause', new Error('e', { cause: () => 1 }), 'value.cause', 'function'],
    ['a class instance', { at: new Point() }, 'value.at', 'Point'],
    ['a subclass of Map', { m: new TaggedMap() }, 'value.m', 'TaggedMap'],
    ['a subclass of Error', [new DomainError('d')], 'value[0]', 'DomainError'],
    ['a TypeError named RangeError', renamedTypeError(), 'value', 'Error'],
    ['a WeakMap', { cache: new WeakMap() }, 'value.cache', 'WeakMap'],
    ['a Promise', { pending: Promise.resolve(1) }, 'value.pending', 'Promise'],
    ['a boxed number', { n: new Number(1) }, 'value.n', 'Number'],
    ['a SharedArrayBuffer', { s: new SharedArrayBuffer(4) }, 'value.s', 'SharedArrayBuffer'],
    ['a lone surrogate', { text: 'a\ud800b' }, 'value.text', 'string'],
    ['a lone surrogate in a key', { '\udc00': 1 }, 'value', 'string'],
    [
      'an own __proto__ property',
      { inner: JSON.parse('{"__proto__": 1}') },
      'value.inner',
      'object',
    ],
    ['a value nested too deeply', deep(), undefined, 'depth'],
  ])('%s', (_, value, path, type) => {
    const codec = new CacheCodec();
    const error = codecError(() => codec.encode(value));
    expect(error.context.type).toBe(type);
    if (path !== undefined) {
      expect(error.context.path).toBe(path);
      expect(error.message).toContain(path);
    } else {
      expect(error.context.reason).toBe('too-deep');
    }
    expect(codec.stats().encoded).toBe(0);
    // the codec is still usable afterwards
    expect(codec.decode(codec.encode({ ok: true }))).toStrictEqual({ ok: true });
  });

  it('turns a getter that throws into a CacheCodecError', () => {
    const codec = new CacheCodec();
    const value = {
      get broken(): never {
        throw new Error('not loaded');
      },
    };
    const error = codecError(() => codec.encode(value));
    expect(error.context.reason).toBe('serializer-failed');
    expect(error.message).toContain('not loaded');
    expect(codec.decode(codec.encode({ ok: true }))).toStrictEqual({ ok: true });
  });

  it('rejects associated data that is neither text nor bytes as a programming error', () => {
    const codec = new CacheCodec();
    invalidArgument(() => codec.encode(1, 42 as unknown as string));
    invalidArgument(() => codec.decode(codec.encode(1), {} as unknown as string));
  });

  it('refuses a value whose serialized form exceeds maxDecodedBytes', () => {
    const codec = new CacheCodec({ maxDecodedBytes: 1000 });
    const error = codecError(() => codec.encode('x'.repeat(2000)));
    expect(error.context.reason).toBe('too-large');
    expect(codec.decode(codec.encode('x'.repeat(900)))).toBe('x'.repeat(900));
  });
});

// --- compression ---------------------------------------------------------------------------------

describe('CacheCodec compression', () => {
  const serializedLength = (value: unknown) =>
    new CacheCodec({ compression: false }).encode(value).length - 3 - 4;

  it('compresses only values larger than the threshold (1024 bytes by default)', () => {
    const codec = new CacheCodec();
    const small = codec.encode({ id: 1, name: 'small' });
    expect(compressionOf(small)).toBe(0);
    expect(codec.stats().compressed).toBe(0);

    const value = document(4);
    expect(serializedLength(value)).toBeGreaterThan(1024);
    const large = codec.encode(value);
    expect(compressionOf(large)).toBe(2); // deflate
    expect(codec.decode(large)).toStrictEqual(value);
    const stats = codec.stats();
    expect(stats.compressed).toBe(1);
    expect(stats.bytesBeforeCompression).toBe(serializedLength(value));
    expect(stats.bytesAfterCompression).toBeLessThan(stats.bytesBeforeCompression / 2);
    expect(large.length).toBe(3 + 4 + stats.bytesAfterCompression + 4);
  });

  it('honours thresholdBytes exactly: strictly larger values are compressed', () => {
    const value = document(2);
    const size = serializedLength(value);
    expect(
      compressionOf(new CacheCodec({ compression: { thresholdBytes: size } }).encode(value)),
    ).toBe(0);
    expect(
      compressionOf(new CacheCodec({ compression: { thresholdBytes: size - 1 } }).encode(value)),
    ).toBe(2);
  });

  it.each([
    ['gzip', 1],
    ['deflate', 2],
    ['brotli', 3],
  ] as const)('round-trips with %s', (algorithm, code) => {
    const codec = new CacheCodec({ compression: { algorithm, thresholdBytes: 0 } });
    const value = document(3);
    const entry = codec.encode(value);
    expect(compressionOf(entry)).toBe(code);
    expect(codec.decode(entry)).toStrictEqual(value);
    // any codec reads any algorithm: the entry says which one it used
    expect(new CacheCodec({ compression: false }).decode(entry)).toStrictEqual(value);
    expect(codec.stats().bytesAfterCompression).toBeLessThan(codec.stats().bytesBeforeCompression);
  });

  it('stores incompressible values as they are', () => {
    const codec = new CacheCodec({ compression: { thresholdBytes: 0 } });
    const entry = codec.encode(randomBytes(4096));
    expect(compressionOf(entry)).toBe(0);
    expect(codec.stats().compressed).toBe(0);
  });

  it('never compresses with compression: false', () => {
    const codec = new CacheCodec({ compression: false });
    expect(compressionOf(codec.encode(document(10)))).toBe(0);
  });

  it('validates its options', () => {
    invalidArgument(() => new CacheCodec({ compression: { thresholdBytes: -1 } }));
    invalidArgument(() => new CacheCodec({ compression: { thresholdBytes: 1.5 } }));
    invalidArgument(() => new CacheCodec({ compression: { algorithm: 'zstd' as 'gzip' } }));
    invalidArgument(() => new CacheCodec({ maxDecodedBytes: 0 }));
    invalidArgument(() => new CacheCodec({ maxDecodedBytes: 2 ** 32 }));
  });
});

// --- encryption ----------------------------------------------------------------------------------

describe('CacheCodec encryption', () => {
  const encrypted = (keys: Record<string, Uint8Array | string>, currentKeyId: string | number) =>
    new CacheCodec({ encryption: { keys, currentKeyId } });

  it('round-trips, hides the content and uses a fresh IV for each entry', () => {
    const codec = encrypted({ k1: KEY_1 }, 'k1');
    const value = { secret: 'correct horse battery staple', n: 1n };
    const first = codec.encode(value);
    const second = codec.encode(value);
    expect(isEncrypted(first)).toBe(true);
    expect(keyIdOf(first)).toBe('k1');
    expect(Buffer.from(first).includes('correct horse')).toBe(false);
    expect(Buffer.compare(first, second)).not.toBe(0);
    expect(codec.decode(first)).toStrictEqual(value);
    expect(codec.decode(second)).toStrictEqual(value);
  });

  it('compresses before encrypting', () => {
    const codec = new CacheCodec({ encryption: { keys: { k1: KEY_1 }, currentKeyId: 'k1' } });
    const value = document(4);
    const entry = codec.encode(value);
    expect(isEncrypted(entry)).toBe(true);
    expect(compressionOf(entry)).toBe(2);
    expect(keyIdOf(entry)).toBe('k1');
    expect(codec.decode(entry)).toStrictEqual(value);
  });

  it('accepts keys as bytes, hex, base64 and base64url, and numeric key ids', () => {
    const forms = [
      KEY_1,
      new Uint8Array(KEY_1),
      KEY_1.toString('hex'),
      KEY_1.toString('hex').toUpperCase(),
      KEY_1.toString('base64'),
      KEY_1.toString('base64url'),
    ];
    const entry = encrypted({ 1: forms[0]! }, 1).encode('hello');
    expect(keyIdOf(entry)).toBe('1');
    for (const form of forms) expect(encrypted({ 1: form }, '1').decode(entry)).toBe('hello');
  });

  it('rotates keys: old entries still decode, new ones use the current key', () => {
    const before = encrypted({ k1: KEY_1 }, 'k1');
    const old = before.encode({ v: 'old' });
    const after = encrypted({ k1: KEY_1, k2: KEY_2 }, 'k2');
    expect(after.decode(old)).toStrictEqual({ v: 'old' });
    const fresh = after.encode({ v: 'new' });
    expect(keyIdOf(fresh)).toBe('k2');
    expect(after.decode(fresh)).toStrictEqual({ v: 'new' });
    // a process that does not know k2 yet misses instead of guessing
    const error = codecError(() => before.decode(fresh));
    expect(error.context.reason).toBe('unknown-key-id');
    expect(error.context.keyId).toBe('k2');
    expect(error.message).toContain('"k2"');
  });

  it('refuses an entry encrypted with another key under the same id', () => {
    const entry = encrypted({ k1: KEY_1 }, 'k1').encode('x');
    const error = codecError(() => encrypted({ k1: KEY_2 }, 'k1').decode(entry));
    expect(error.context.reason).toBe('authentication-failed');
  });

  it('refuses encrypted entries without keys, and unencrypted entries when encryption is on', () => {
    const secure = encrypted({ k1: KEY_1 }, 'k1');
    const plain = new CacheCodec();
    expect(codecError(() => plain.decode(secure.encode('x'))).context.reason).toBe(
      'encryption-not-configured',
    );
    expect(codecError(() => secure.decode(plain.encode('x'))).context.reason).toBe('not-encrypted');
  });

  it('binds entries to their associated data', () => {
    for (const codec of [encrypted({ k1: KEY_1 }, 'k1'), new CacheCodec()]) {
      const entry = codec.encode({ user: 1 }, 'users:1');
      expect(codec.decode(entry, 'users:1')).toStrictEqual({ user: 1 });
      expect(codec.decode(entry, Buffer.from('users:1'))).toStrictEqual({ user: 1 });
      codecError(() => codec.decode(entry, 'users:2'));
      codecError(() => codec.decode(entry));
      codecError(() => codec.decode(codec.encode({ user: 1 }), 'users:1'));
    }
  });

  it.each([
    ['a 31-byte key', { k: randomBytes(31) }, 'k'],
    ['a 33-byte key', { k: randomBytes(33) }, 'k'],
    ['a short hex string', { k: 'abcd' }, 'k'],
    ['64 characters that are not hex', { k: 'z'.repeat(64) }, 'k'],
    ['base64 of 24 bytes', { k: randomBytes(24).toString('base64') }, 'k'],
    ['a number', { k: 42 as unknown as string }, 'k'],
    ['a current key id that is not a key', { k: KEY_1 }, 'other'],
    ['no keys at all', {}, 'k'],
    ['a key id longer than 255 bytes', { ['é'.repeat(128)]: KEY_1 }, 'é'.repeat(128)],
  ])('validates keys at construction: %s', (_, keys, current) => {
    const error = invalidArgument(() => encrypted(keys, current));
    const text = JSON.stringify({ message: error.message, context: error.context });
    for (const material of Object.values(keys)) {
      if (typeof material === 'string' && material.length > 8) expect(text).not.toContain(material);
      if (material instanceof Uint8Array && material.length > 8) {
        expect(text).not.toContain(Buffer.from(material).toString('hex'));
        expect(text).not.toContain(Buffer.from(material).toString('base64'));
      }
    }
  });
});

// --- damaged entries -----------------------------------------------------------------------------

describe('CacheCodec never returns a wrong value', () => {
  const encryption = { keys: { k1: KEY_1 }, currentKeyId: 'k1' };
  const cases: Array<[string, CodecOptions]> = [
    ['a plain entry', { compression: false }],
    ['a plain compressed entry', { compression: { thresholdBytes: 0 } }],
    ['an encrypted entry', { compression: false, encryption }],
    [
      'an encrypted compressed entry',
      { compression: { thresholdBytes: 0, algorithm: 'brotli' }, encryption },
    ],
  ];
  const value = { id: 7, name: 'ada', tags: ['a', 'b'], at: new Date(0), n: -0 };

  it.each(cases)('detects every single-byte change of %s', (_, options) => {
    const codec = new CacheCodec(options);
    const entry = codec.encode(value);
    expect(entry.length).toBeLessThan(200);
    let attempts = 0;
    for (let position = 0; position < entry.length; position++) {
      for (const mask of [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff, 0x5a]) {
        const damaged = Buffer.from(entry);
        damaged[position] = damaged[position]! ^ mask;
        codecError(() => codec.decode(damaged));
        attempts++;
      }
    }
    expect(codec.stats().decodeErrors).toBe(attempts);
    expect(codec.decode(entry)).toStrictEqual(value);
  });

  it.each(cases)('detects truncation of %s at every length, and extra bytes', (_, options) => {
    const codec = new CacheCodec(options);
    const entry = Buffer.from(codec.encode(value));
    for (let length = 0; length < entry.length; length++) {
      codecError(() => codec.decode(entry.subarray(0, length)));
    }
    codecError(() => codec.decode(Buffer.concat([entry, Buffer.from([0])])));
  });

  it('would return another value without its checksum: the check is what prevents it', () => {
    // The body of { n: 1 } with one bit flipped is still valid MessagePack, for { n: 0 }.
    const entry = Buffer.from(new CacheCodec().encode({ n: 1 }));
    const damaged = Buffer.from(entry);
    damaged[damaged.length - 5] = damaged[damaged.length - 5]! ^ 0x01;
    const resealed = sealPlain(damaged.subarray(3, damaged.length - 4));
    expect(new CacheCodec().decode(resealed)).toStrictEqual({ n: 0 });
    expect(codecError(() => new CacheCodec().decode(damaged)).context.reason).toBe(
      'checksum-mismatch',
    );
  });

  it('refuses bytes it did not write, unknown versions and unknown flags', () => {
    const codec = new CacheCodec();
    const entry = Buffer.from(codec.encode('x'));
    expect(codecError(() => codec.decode(Buffer.from([0x92, 1, 2]))).context.reason).toBe(
      'not-an-entry',
    );
    expect(codecError(() => codec.decode(Buffer.from('{"a":1}'))).context.reason).toBe(
      'not-an-entry',
    );
    const future = Buffer.from(entry);
    future[1] = 2;
    const error = codecError(() => codec.decode(future));
    expect(error.context.reason).toBe('unsupported-version');
    expect(error.context.version).toBe(2);
    const flagged = Buffer.from(entry);
    flagged[2] = 0x40;
    expect(codecError(() => codec.decode(flagged)).context.reason).toBe('unsupported-flags');
    expect(codecError(() => codec.decode(new Uint8Array(0))).context.reason).toBe('truncated');
  });

  it('refuses input that is not bytes', () => {
    const codec = new CacheCodec();
    for (const input of [null, undefined, 'text', 42, [0xc1, 1, 0], new ArrayBuffer(8)]) {
      codecError(() => codec.decode(input as unknown as Uint8Array));
    }
  });

  it('caps decompression: an oversized length is refused before inflating, a lying one is cut off', () => {
    const bomb = zlib.deflateRawSync(Buffer.alloc(10 * 1024 * 1024));
    const codec = new CacheCodec({ maxDecodedBytes: 1024 * 1024 });
    const announced = codecError(() => codec.decode(sealPlain(bomb, 2, 10 * 1024 * 1024)));
    expect(announced.context.reason).toBe('too-large');
    const lying = codecError(() => codec.decode(sealPlain(bomb, 2, 1000)));
    expect(lying.context.reason).toBe('decompression-failed');
    // the default cap is 64 MiB
    const huge = codecError(() => new CacheCodec().decode(sealPlain(bomb, 2, 2 ** 32 - 1)));
    expect(huge.context.reason).toBe('too-large');
  });

  it('applies maxDecodedBytes to uncompressed bodies too', () => {
    const entry = new CacheCodec({ compression: false }).encode('x'.repeat(5000));
    const error = codecError(() => new CacheCodec({ maxDecodedBytes: 4096 }).decode(entry));
    expect(error.context.reason).toBe('too-large');
  });

  it('contains malformed bodies, however deep, without crashing', () => {
    const codec = new CacheCodec();
    const deep = Buffer.concat([Buffer.alloc(200_000, 0x91), Buffer.from([1])]); // [[[[...1]]]]
    expect(codecError(() => codec.decode(sealPlain(deep))).context.reason).toBe('malformed');
    for (const body of [[0xdd, 0xff, 0xff, 0xff, 0xff], [0xd4, 0x65, 0x00], [0x92, 0x01], []]) {
      expect(codecError(() => codec.decode(sealPlain(Buffer.from(body)))).context.reason).toBe(
        'malformed',
      );
    }
    expect(codec.decode(codec.encode({ ok: 1 }))).toStrictEqual({ ok: 1 });
  });
});

// --- stats and checksum --------------------------------------------------------------------------

describe('CacheCodec stats', () => {
  it('counts encodes, decodes and decode errors, and returns a copy', () => {
    const codec = new CacheCodec();
    const entry = codec.encode(1);
    codec.decode(entry);
    codec.decode(entry);
    codecError(() => codec.decode(entry.subarray(1)));
    const stats = codec.stats();
    expect(stats).toStrictEqual({
      encoded: 1,
      decoded: 2,
      decodeErrors: 1,
      compressed: 0,
      bytesBeforeCompression: 0,
      bytesAfterCompression: 0,
    });
    stats.encoded = 99;
    expect(codec.stats().encoded).toBe(1);
  });
});

describe('codec CRC-32', () => {
  it('computes the standard CRC-32, natively or not, and can continue a running value', () => {
    const check = Buffer.from('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Js(check)).toBe(0xcbf43926);
    expect(crc32Js(new Uint8Array(0))).toBe(0);
    for (const size of [1, 7, 64, 1000, 4096]) {
      const data = randomBytes(size);
      expect(crc32Js(data)).toBe(zlib.crc32(data));
      const split = size >> 1;
      expect(crc32Js(data.subarray(split), crc32Js(data.subarray(0, split)))).toBe(
        zlib.crc32(data),
      );
    }
  });
});

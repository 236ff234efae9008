import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CacheCodec } from '../../src/cache/codec.js';
import { entryBinding } from '../../src/cache/codec-binding.js';
import { CacheCodecError } from '../../src/cache/errors.js';
import type { EntryMeta } from '../../src/cache/types.js';

const KEY_1 = randomBytes(32);
const NOW = 1_700_000_000_000;
const META: EntryMeta = {
  createdAt: NOW,
  expiresAt: NOW + 60_000,
  staleUntil: NOW + 120_000,
  tags: ['orders', 'user:1'],
};

const codecs = {
  encrypted: new CacheCodec({ encryption: { keys: { k1: KEY_1 }, currentKeyId: 'k1' } }),
  plain: new CacheCodec(),
};
const failure = { encrypted: 'authentication-failed', plain: 'checksum-mismatch' } as const;

function reasonOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CacheCodecError);
    return (error as CacheCodecError).context.reason;
  }
  throw new Error('expected a CacheCodecError, but nothing was thrown');
}

describe.each(Object.keys(codecs) as (keyof typeof codecs)[])(
  'entries bound to their metadata (%s)',
  (name) => {
    const codec = codecs[name];

    it('decodes with the namespace, key and metadata it was encoded with', () => {
      const bytes = codec.encodeEntry({ role: 'viewer' }, 'users', 'user:1', META);
      expect(codec.decodeEntry(bytes, 'users', 'user:1', { ...META })).toStrictEqual({
        role: 'viewer',
      });
    });

    it('refuses the entry when any bound field differs: a rewritten header is a miss', () => {
      const bytes = codec.encodeEntry({ role: 'viewer' }, 'users', 'user:1', META);
      const changes: [string, string, EntryMeta][] = [
        ['other-ns', 'user:1', META],
        ['users', 'user:2', META],
        ['users', 'user:1', { ...META, createdAt: META.createdAt + 1 }],
        ['users', 'user:1', { ...META, expiresAt: META.expiresAt + 3_600_000 }],
        ['users', 'user:1', { ...META, staleUntil: META.staleUntil + 1 }],
        ['users', 'user:1', { ...META, tags: ['orders'] }],
        ['users', 'user:1', { ...META, tags: [...META.tags, 'extra'] }],
        ['users', 'user:1', { ...META, tags: [] }],
      ];
      for (const [namespace, key, meta] of changes) {
        expect(reasonOf(() => codec.decodeEntry(bytes, namespace, key, meta))).toBe(failure[name]);
      }
    });

    it('binds tags as a set: any order and repeats decode alike', () => {
      const bytes = codec.encodeEntry(1, 'ns', 'k', { ...META, tags: ['b', 'a', 'c'] });
      for (const tags of [
        ['a', 'b', 'c'],
        ['c', 'b', 'a'],
        ['a', 'a', 'b', 'c'],
      ]) {
        expect(codec.decodeEntry(bytes, 'ns', 'k', { ...META, tags })).toBe(1);
      }
    });

    it('keeps namespaces, keys and tags apart that differ only in where one ends', () => {
      const bytes = codec.encodeEntry(1, 'a', 'bc', { ...META, tags: ['x', 'y'] });
      expect(
        reasonOf(() => codec.decodeEntry(bytes, 'ab', 'c', { ...META, tags: ['x', 'y'] })),
      ).toBe(failure[name]);
      expect(reasonOf(() => codec.decodeEntry(bytes, 'a', 'bc', { ...META, tags: ['xy'] }))).toBe(
        failure[name],
      );
    });

    it('keeps apart keys that differ only by lone surrogates', () => {
      const bytes = codec.encodeEntry(1, 'ns', '\uD800', META);
      expect(codec.decodeEntry(bytes, 'ns', '\uD800', META)).toBe(1);
      expect(reasonOf(() => codec.decodeEntry(bytes, 'ns', '\uD801', META))).toBe(failure[name]);
    });

    it('refuses to read a bound entry as a plain one and the other way round', () => {
      const bound = codec.encodeEntry(1, 'ns', 'k', META);
      const unbound = codec.encode(1, 'ns\u0000k');
      expect(reasonOf(() => codec.decode(bound, 'ns\u0000k'))).toBe('bound-entry');
      expect(reasonOf(() => codec.decodeEntry(unbound, 'ns', 'k', META))).toBe('unbound-entry');
    });
  },
);

describe('entry binding', () => {
  it('is the same for -0 and 0, and for tags in any order', () => {
    const a = entryBinding('ns', 'k', { ...META, createdAt: 0, tags: ['b', 'a'] });
    const b = entryBinding('ns', 'k', { ...META, createdAt: -0, tags: ['a', 'b', 'a'] });
    expect(a.equals(b)).toBe(true);
  });

  it('writes short and long strings alike, lone surrogates included', () => {
    const long = `${'k'.repeat(100)}\uD800`;
    const other = `${'k'.repeat(100)}\uD801`;
    expect(entryBinding('ns', long, META).equals(entryBinding('ns', other, META))).toBe(false);
    const bytes = codecs.plain.encodeEntry(1, 'ns', long, META);
    expect(codecs.plain.decodeEntry(bytes, 'ns', long, META)).toBe(1);
    expect(reasonOf(() => codecs.plain.decodeEntry(bytes, 'ns', other, META))).toBe(
      'checksum-mismatch',
    );
    // both paths write each code unit as two little-endian bytes after its count
    for (const text of ['a\uD800', `${'a'.repeat(70)}\uD800`]) {
      const binding = entryBinding(text, 'k', META);
      expect(binding.readUInt32BE(0)).toBe(text.length);
      expect(binding.subarray(4, 4 + 2 * text.length)).toEqual(Buffer.from(text, 'utf16le'));
    }
  });

  it('binds an entry that never goes stale', () => {
    const forever = { ...META, staleUntil: Number.POSITIVE_INFINITY };
    const bytes = codecs.encrypted.encodeEntry('x', 'ns', 'k', forever);
    expect(codecs.encrypted.decodeEntry(bytes, 'ns', 'k', forever)).toBe('x');
  });
});

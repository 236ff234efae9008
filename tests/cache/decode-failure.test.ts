import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createCache } from '../../src/cache/cache.js';
import { CacheCodec, type CodecOptions } from '../../src/cache/codec.js';
import type { EntryMeta } from '../../src/cache/types.js';
import { FaultTier } from './fault-tier.js';

const K1 = randomBytes(32);
const K2 = randomBytes(32);
const withK1: CodecOptions = { encryption: { keys: { k1: K1 }, currentKeyId: 'k1' } };
const withK2: CodecOptions = { encryption: { keys: { k1: K1, k2: K2 }, currentKeyId: 'k2' } };

/** A logger that keeps its warnings. */
function recordingLogger() {
  const warnings: Record<string, unknown>[] = [];
  const logger = {
    debug() {},
    info() {},
    error() {},
    warn(fields: object | string) {
      if (typeof fields === 'object') warnings.push(fields as Record<string, unknown>);
    },
  };
  return { logger, warnings };
}

/** A cache over one remote tier only, so that every read reaches the tier. */
function remoteOnly(
  remote: FaultTier,
  codec: CodecOptions = {},
  logger = recordingLogger().logger,
) {
  return createCache({ tiers: [remote], codec, logger, bus: false, remote: { timeoutMs: 200 } });
}

function meta(): EntryMeta {
  const now = Date.now();
  return { createdAt: now, expiresAt: now + 60_000, staleUntil: now + 60_000, tags: [] };
}

/** Stores `payload` under `k` in `remote`, as a tier would hold it. */
function plant(remote: FaultTier, payload: Uint8Array, entryMeta = meta()): void {
  remote.entries.set('default\u0000k', { payload, ...entryMeta });
}

describe('cache: entries that cannot be decoded', () => {
  it('leaves an entry its own configuration refuses, for the readers that can decode it', async () => {
    const m = meta();
    const cases: [string, CodecOptions, Uint8Array][] = [
      // a reader that does not know the new key yet (a rotation under way)
      ['unknown-key-id', withK1, new CacheCodec(withK2).encodeEntry('v', 'default', 'k', m)],
      // a reader without encryption
      ['encryption-not-configured', {}, new CacheCodec(withK1).encodeEntry('v', 'default', 'k', m)],
      // a reader with encryption, before the fleet has switched it on
      ['not-encrypted', withK1, new CacheCodec().encodeEntry('v', 'default', 'k', m)],
      // an entry of an earlier release (not bound to its metadata)
      ['unbound-entry', {}, new CacheCodec().encode('v', 'default\u0000k')],
    ];
    for (const [reason, options, payload] of cases) {
      const remote = new FaultTier();
      plant(remote, payload, m);
      const cache = remoteOnly(remote, options);
      const events: { reason: string; corrupt: boolean }[] = [];
      cache.on('decode-error', (e) => events.push({ reason: e.reason, corrupt: e.corrupt }));
      expect(await cache.get('k'), reason).toBeUndefined();
      await sleep(10);
      expect(events).toEqual([{ reason, corrupt: false }]);
      expect(remote.entries.has('default\u0000k'), reason).toBe(true);
      expect(
        remote.calls.some((call) => call.op.startsWith('delete')),
        reason,
      ).toBe(false);
      await cache.close();
    }
  });

  it('deletes an entry no reader can decode: a flipped byte, a bad checksum, a truncated frame', async () => {
    const m = meta();
    const sealed = Buffer.from(new CacheCodec(withK1).encodeEntry('v', 'default', 'k', m));
    const plain = Buffer.from(new CacheCodec().encodeEntry('v', 'default', 'k', m));
    const flip = (bytes: Buffer, at: number) => {
      const copy = Buffer.from(bytes);
      copy[at] = copy[at]! ^ 0x01;
      return copy;
    };
    const cases: [string, CodecOptions, Uint8Array][] = [
      ['authentication-failed', withK2, flip(sealed, sealed.length - 20)],
      ['checksum-mismatch', {}, flip(plain, plain.length - 6)],
      ['truncated', {}, plain.subarray(0, 2)],
      ['not-an-entry', {}, Buffer.from('{"written":"by something else"}')],
    ];
    for (const [reason, options, payload] of cases) {
      const remote = new FaultTier();
      plant(remote, payload, m);
      const cache = remoteOnly(remote, options);
      const events: { reason: string; corrupt: boolean }[] = [];
      cache.on('decode-error', (e) => events.push({ reason: e.reason, corrupt: e.corrupt }));
      expect(await cache.get('k'), reason).toBeUndefined();
      await sleep(10);
      expect(events).toEqual([{ reason, corrupt: true }]);
      expect(remote.entries.has('default\u0000k'), reason).toBe(false);
      expect(
        remote.calls.some((call) => call.op === 'delete'),
        reason,
      ).toBe(false);
      await cache.close();
    }
  });

  it('does not delete a valid value written between the failed read and the delete', async () => {
    const remote = new FaultTier();
    plant(remote, Buffer.from('not an entry'));
    const cache = remoteOnly(remote);
    let open!: () => void;
    remote.deleteGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    expect(await cache.get('k')).toBeUndefined();
    // The delete of the corrupt bytes is under way; another instance stores a new value meanwhile.
    await cache.set('k', 'new value');
    open();
    await sleep(10);
    expect(remote.calls.some((call) => call.op === 'deleteIfUnchanged')).toBe(true);
    expect(await cache.get('k')).toBe('new value');
    await cache.close();
  });

  it('never deletes from a tier that cannot delete conditionally', async () => {
    const remote = new FaultTier();
    Object.defineProperty(remote, 'deleteIfUnchanged', { value: undefined });
    plant(remote, Buffer.from('not an entry'));
    const cache = remoteOnly(remote);
    expect(await cache.get('k')).toBeUndefined();
    await sleep(10);
    expect(remote.entries.has('default\u0000k')).toBe(true);
    expect(remote.calls.map((call) => call.op)).toEqual(['get']);
    await cache.close();
  });

  it('counts every refused read by reason but logs each reason once, not on every read', async () => {
    const remote = new FaultTier();
    plant(remote, new CacheCodec(withK2).encodeEntry('v', 'default', 'k', meta()));
    const { logger, warnings } = recordingLogger();
    const cache = remoteOnly(remote, withK1, logger);
    for (let i = 0; i < 50; i++) expect(await cache.get('k')).toBeUndefined();
    expect(cache.analytics().codec.decodeErrorsByReason).toEqual({ 'unknown-key-id': 50 });
    expect(cache.analytics().codec.decodeErrors).toBe(50);
    expect(warnings.filter((w) => w.reason === 'unknown-key-id')).toHaveLength(1);
    await cache.close();
  });

  it('treats an entry whose metadata was rewritten in the tier as a miss', async () => {
    const remote = new FaultTier();
    const cache = remoteOnly(remote, withK1);
    await cache.set('k', { role: 'viewer' }, { ttl: 60, tags: ['user:1'] });
    const stored = remote.entries.get('default\u0000k')!;
    for (const rewrite of [
      { expiresAt: stored.expiresAt + 3_600_000 },
      { staleUntil: stored.staleUntil + 3_600_000 },
      { tags: [] },
    ]) {
      remote.entries.set('default\u0000k', { ...stored, ...rewrite });
      expect(await cache.get('k')).toBeUndefined();
    }
    remote.entries.set('default\u0000k', stored);
    expect(await cache.get('k')).toEqual({ role: 'viewer' });
    await cache.close();
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BanList,
  type ClientMatcher,
  MemoryBanStore,
} from '../../../src/security/clients/index.js';
import type { Ban, BanStore } from '../../../src/security/types.js';
import { eventually } from '../../support/eventually.js';
import { EPOCH, fakeClock } from '../../support/test-doubles.js';

const lists: BanList[] = [];
function banList(options: ConstructorParameters<typeof BanList>[0] = {}): BanList {
  const list = new BanList(options);
  lists.push(list);
  return list;
}
afterEach(async () => {
  await Promise.all(lists.splice(0).map((list) => list.close()));
});

/** A store that can be made to fail, or to hang, on demand. */
function faultyStore(inner: BanStore = new MemoryBanStore()) {
  const state = { mode: 'ok' as 'ok' | 'fail' | 'hang', calls: 0 };
  const guard = <T>(call: () => Promise<T>): Promise<T> => {
    state.calls++;
    if (state.mode === 'fail') return Promise.reject(new Error('store down'));
    if (state.mode === 'hang') return new Promise<T>(() => undefined);
    return call();
  };
  const store: BanStore = {
    put: (ban) => guard(() => inner.put(ban)),
    delete: (client) => guard(() => inner.delete(client)),
    list: () => guard(() => inner.list()),
  };
  return { store, inner, state };
}

describe('temporary bans', () => {
  it('ban, isBanned, get, unban', async () => {
    const clock = fakeClock();
    const bans = banList({ clock });
    const events: string[] = [];
    bans.on('ban', (ban) => events.push(`ban ${ban.client}`));
    bans.on('unban', (event) => events.push(`unban ${event.client} ${event.reason}`));
    const ban = await bans.ban('203.0.113.7', '30m', 'scanner');
    expect(ban).toEqual({
      client: '203.0.113.7',
      until: EPOCH + 30 * 60_000,
      reason: 'scanner',
      source: 'manual',
      createdAt: EPOCH,
    });
    expect(bans.isBanned('203.0.113.7')).toBe(true);
    expect(bans.isBanned('203.0.113.8')).toBe(false);
    expect(bans.get('203.0.113.7')).toEqual(ban);
    expect(bans.list()).toEqual([ban]);
    expect(await bans.unban('203.0.113.7')).toBe(true);
    expect(await bans.unban('203.0.113.7')).toBe(false);
    expect(bans.isBanned('203.0.113.7')).toBe(false);
    expect(events).toEqual(['ban 203.0.113.7', 'unban 203.0.113.7 manual']);
  });

  it('end on time', async () => {
    const clock = fakeClock();
    const store = new MemoryBanStore({ clock });
    const bans = banList({ clock, store });
    const expired: string[] = [];
    bans.on('unban', (event) => event.reason === 'expired' && expired.push(event.client));
    await bans.ban('203.0.113.7', 600, 'test');
    clock.advance(600_000 - 1);
    expect(bans.isBanned('203.0.113.7')).toBe(true);
    clock.advance(1);
    expect(bans.isBanned('203.0.113.7')).toBe(false);
    expect(expired).toEqual(['203.0.113.7']);
    expect(await store.list()).toEqual([]);
  });

  it('refuse a bad client or duration', async () => {
    const bans = banList();
    await expect(bans.ban('', '1h', 'x')).rejects.toThrow(/client/);
    await expect(bans.ban('203.0.113.7', 'forever' as '1h', 'x')).rejects.toThrow(/duration/);
    await expect(bans.ban('203.0.113.7', 0, 'x')).rejects.toThrow(/duration/);
  });

  it('two lists on one store see each other’s bans at once', async () => {
    const store = new MemoryBanStore();
    const a = banList({ store, refreshMs: 60_000 });
    const b = banList({ store, refreshMs: 60_000 });
    await Promise.all([a.start(), b.start()]);
    await a.ban('203.0.113.7', '1h', 'test');
    await eventually(() => b.isBanned('203.0.113.7'), 'the ban on the other list', 100);
    await b.unban('203.0.113.7');
    await eventually(() => !a.isBanned('203.0.113.7'), 'the unban on the other list', 100);
  });

  it('a store without change reports is read again every refreshMs', async () => {
    const { store, inner } = faultyStore();
    const bans = banList({ store, refreshMs: 50 });
    await bans.start();
    await inner.put({
      client: '203.0.113.7',
      until: Date.now() + 60_000,
      reason: 'elsewhere',
      source: 'manual',
      createdAt: Date.now(),
    });
    await eventually(() => bans.isBanned('203.0.113.7'), 'the ban read from the store', 1_000);
    await inner.delete('203.0.113.7');
    await eventually(() => !bans.isBanned('203.0.113.7'), 'the unban read from the store', 1_000);
  });

  it('match banned ranges through the matcher they are given', async () => {
    const prefixMatcher = (list: readonly string[]): ClientMatcher => ({
      has: (client) => list.some((range) => client.startsWith(range.replace(/0\.0\/16$/, ''))),
    });
    const exact = banList();
    await exact.ban('10.1.0.0/16', '1h', 'range');
    expect(exact.isBanned('10.1.0.0/16')).toBe(true);
    expect(exact.isBanned('10.1.2.3')).toBe(false);
    const ranged = banList({ ranges: prefixMatcher });
    await ranged.ban('10.1.0.0/16', '1h', 'range');
    expect(ranged.isBanned('10.1.2.3')).toBe(true);
    expect(ranged.get('10.1.2.3')?.client).toBe('10.1.0.0/16');
    expect(ranged.isBanned('10.2.2.3')).toBe(false);
    await ranged.unban('10.1.0.0/16');
    expect(ranged.isBanned('10.1.2.3')).toBe(false);
  });
});

describe('bans when the store is down', () => {
  it.each(['fail', 'hang'] as const)(
    'a store that %ss: decisions go on locally, nothing throws or waits past the timeout',
    async (mode) => {
      const { store, inner, state } = faultyStore();
      const bans = banList({ store, storeTimeoutMs: 100, refreshMs: 60_000 });
      const errors: Error[] = [];
      bans.on('store-error', (error) => errors.push(error));
      state.mode = mode;
      let started = performance.now();
      await bans.start();
      expect(performance.now() - started).toBeLessThan(500);
      started = performance.now();
      await bans.ban('203.0.113.7', '1h', 'while down');
      await bans.ban('203.0.113.8', '1h', 'while down');
      expect(await bans.unban('203.0.113.8')).toBe(true);
      await bans.refresh();
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(bans.isBanned('203.0.113.7')).toBe(true);
      expect(bans.isBanned('203.0.113.8')).toBe(false);
      expect(bans.pending).toBe(2);
      expect(errors.length).toBeGreaterThanOrEqual(3);
      // Back: the writes that failed are made, and the store agrees.
      state.mode = 'ok';
      await bans.refresh();
      expect(bans.pending).toBe(0);
      expect((await inner.list()).map((ban) => ban.client)).toEqual(['203.0.113.7']);
      expect(bans.isBanned('203.0.113.7')).toBe(true);
    },
  );

  it('a read of the store that began before a ban does not undo it', async () => {
    const inner = new MemoryBanStore();
    let release: () => void = () => undefined;
    const slowList: BanStore = {
      put: (ban) => inner.put(ban),
      delete: (client) => inner.delete(client),
      async list() {
        const before = await inner.list();
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return before;
      },
    };
    const bans = banList({ store: slowList, refreshMs: 60_000 });
    const reading = bans.refresh();
    await sleep(5);
    await bans.ban('203.0.113.7', '1h', 'during a read');
    release();
    await reading;
    expect(bans.isBanned('203.0.113.7')).toBe(true);
  });

  it('a ban of a store that lists it as ended is not brought back', async () => {
    const clock = fakeClock();
    const stale: Ban = {
      client: '203.0.113.7',
      until: EPOCH - 1,
      reason: 'old',
      source: 'manual',
      createdAt: EPOCH - 60_000,
    };
    const store: BanStore = {
      put: async () => undefined,
      delete: async () => false,
      list: async () => [stale],
    };
    const bans = banList({ store, clock });
    await bans.refresh();
    expect(bans.isBanned('203.0.113.7')).toBe(false);
  });
});

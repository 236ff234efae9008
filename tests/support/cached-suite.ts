import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  Cached,
  CacheEvict,
  CachePut,
  cached,
  configure,
  type Enterprise,
  InvalidArgumentError,
} from '../../src/index.js';

/**
 * `@Cached`, `@CacheEvict` and `@CachePut` in one decorator mode. Compiled once per vitest project:
 * standard decorators from tests/cache, `experimentalDecorators` from tests/legacy.
 */
export function describeCacheDecorators(mode: 'standard' | 'legacy'): void {
  describe(`cache decorators (${mode})`, () => {
    let enterprise: Enterprise;
    let calls: string[];

    beforeEach(() => {
      enterprise = configure({
        logLevel: 'silent',
        env: {},
        performance: { systemMetrics: false },
      });
      calls = [];
    });

    class UserService {
      constructor(readonly prefix = 'user') {}

      @Cached({ namespace: 'users', ttl: 60, tags: (user: { id: string }) => [`user:${user.id}`] })
      async getUserProfile(userId: string, options: Record<string, unknown> = {}) {
        calls.push(`get:${userId}`);
        await sleep(5);
        return { id: userId, label: `${this.prefix}-${userId}`, options };
      }

      @Cached({ namespace: 'users', key: (id: string) => `count:${id}` })
      countFor(id: string): number {
        calls.push(`count:${id}`);
        return id.length;
      }

      @CacheEvict({
        namespace: 'users',
        tags: (_result: unknown, [userId]: [string]) => [`user:${userId}`],
      })
      async rename(userId: string) {
        calls.push(`rename:${userId}`);
        return true;
      }

      @CacheEvict({ namespace: 'users', key: (id: string) => `count:${id}` })
      resetCount(_id: string) {
        calls.push('reset');
      }

      @CacheEvict({ namespace: 'users', all: true, beforeInvocation: true })
      async wipe() {
        calls.push('wipe');
      }

      @CachePut({ namespace: 'users', key: (id: string) => `count:${id}` })
      recount(id: string): number {
        calls.push(`recount:${id}`);
        return 100 + id.length;
      }
    }

    it('runs the method once per distinct arguments and keeps `this`', async () => {
      const service = new UserService('member');
      const first = await service.getUserProfile('1');
      const second = await service.getUserProfile('1');
      expect(first).toEqual({ id: '1', label: 'member-1', options: {} });
      expect(second).toEqual(first);
      await service.getUserProfile('2');
      expect(calls).toEqual(['get:1', 'get:2']);
    });

    it('gives objects with the same content the same key, whatever the order of their properties', async () => {
      const service = new UserService();
      await service.getUserProfile('1', { a: 1, b: { c: 2, d: 3 } });
      await service.getUserProfile('1', { b: { d: 3, c: 2 }, a: 1 });
      await service.getUserProfile('1', { a: 1, b: { c: 2, d: 4 } });
      expect(calls).toEqual(['get:1', 'get:1']);
    });

    it('runs concurrent calls with the same arguments once', async () => {
      const service = new UserService();
      await Promise.all(Array.from({ length: 50 }, () => service.getUserProfile('9')));
      expect(calls).toEqual(['get:9']);
    });

    it('stores under the default key Class.method:<arguments> in the namespace', async () => {
      await new UserService().getUserProfile('5');
      expect(
        await enterprise.cache.get('UserService.getUserProfile:["5"]', { namespace: 'users' }),
      ).toMatchObject({
        id: '5',
      });
    });

    it('uses a key function and turns a sync method into an async one', async () => {
      const service = new UserService();
      const result = service.countFor('abc');
      expect(result).toBeInstanceOf(Promise);
      expect(await result).toBe(3);
      expect(await service.countFor('abc')).toBe(3);
      expect(await enterprise.cache.get('count:abc', { namespace: 'users' })).toBe(3);
      expect(calls).toEqual(['count:abc']);
    });

    it('evicts by tag, by key or the whole namespace', async () => {
      const service = new UserService();
      await service.getUserProfile('1');
      await service.rename('1');
      await service.getUserProfile('1');
      expect(calls).toEqual(['get:1', 'rename:1', 'get:1']);
      await service.countFor('ab');
      await service.resetCount('ab');
      await service.countFor('ab');
      expect(calls.filter((c) => c.startsWith('count'))).toEqual(['count:ab', 'count:ab']);
      await service.wipe();
      await service.getUserProfile('1');
      expect(calls.filter((c) => c === 'get:1')).toHaveLength(3);
    });

    it('does not evict when the method fails', async () => {
      class Failing {
        @CacheEvict({ namespace: 'users', key: 'fixed' })
        async remove(): Promise<void> {
          throw new Error('no');
        }
      }
      await enterprise.cache.set('fixed', 1, { namespace: 'users' });
      await expect(new Failing().remove()).rejects.toThrow('no');
      expect(await enterprise.cache.get('fixed', { namespace: 'users' })).toBe(1);
    });

    it('@CachePut always runs the method and stores its result', async () => {
      const service = new UserService();
      expect(await service.countFor('xy')).toBe(2);
      expect(await service.recount('xy')).toBe(102);
      expect(await service.countFor('xy')).toBe(102);
      expect(calls).toEqual(['count:xy', 'recount:xy']);
    });

    it('propagates errors of the method and caches nothing', async () => {
      let attempts = 0;
      class Flaky {
        @Cached({ namespace: 'flaky' })
        async load(): Promise<string> {
          attempts++;
          if (attempts === 1) throw new Error('first fails');
          return 'ok';
        }
      }
      const flaky = new Flaky();
      await expect(flaky.load()).rejects.toThrow('first fails');
      expect(await flaky.load()).toBe('ok');
      expect(await flaky.load()).toBe('ok');
      expect(attempts).toBe(2);
    });

    it('gives each subclass its own entries for an inherited cached method', async () => {
      class BaseRepo {
        table = 'base';
        @Cached({ namespace: 'repos' })
        async findById(id: number): Promise<string> {
          return `${this.table}#${id}`;
        }
      }
      class UserRepo extends BaseRepo {
        override table = 'users';
      }
      class OrderRepo extends BaseRepo {
        override table = 'orders';
      }
      expect(await new UserRepo().findById(1)).toBe('users#1');
      expect(await new OrderRepo().findById(1)).toBe('orders#1');
      expect(await new UserRepo().findById(1)).toBe('users#1');
    });

    it('tells apart arguments that JSON would confuse, and rejects (never throws) when it cannot', async () => {
      let runs = 0;
      const describeArg = cached(
        { namespace: 'args' },
        async function describeArg(_value: unknown) {
          runs++;
          return runs;
        },
      );
      const a = await describeArg(new URL('https://example.com/a'));
      const b = await describeArg(new URL('https://example.com/b'));
      expect(a).not.toBe(b);
      const plain = await describeArg({ $date: '1970-01-01T00:00:00.000Z' });
      const date = await describeArg(new Date(0));
      expect(plain).not.toBe(date);
      class Opaque {
        #secret = 1;
        get secret() {
          return this.#secret;
        }
      }
      const result = describeArg(new Opaque());
      expect(result).toBeInstanceOf(Promise);
      await expect(result).rejects.toMatchObject({ code: 'E_CACHE_CODEC' });
    });

    it('@CacheEvict with a namespace invalidates tags in that namespace only', async () => {
      class Orders {
        @CacheEvict({ namespace: 'users', tags: ['shared'] })
        async touchUsers() {}
      }
      await enterprise.cache.set('u', 1, { namespace: 'users', tags: ['shared'] });
      await enterprise.cache.set('o', 2, { namespace: 'orders', tags: ['shared'] });
      await new Orders().touchUsers();
      expect(await enterprise.cache.get('u', { namespace: 'users' })).toBeUndefined();
      expect(await enterprise.cache.get('o', { namespace: 'orders' })).toBe(2);
    });

    it('has a function twin, cached(options, fn)', async () => {
      let runs = 0;
      const square = cached({ namespace: 'math', ttl: '1m' }, async function square(n: number) {
        runs++;
        return n * n;
      });
      expect(await square(4)).toBe(16);
      expect(await square(4)).toBe(16);
      expect(runs).toBe(1);
      expect(() => cached({}, (n: number) => n)).toThrow(InvalidArgumentError);
    });

    it('refuses bad options when the class is defined', () => {
      expect(() => {
        class Bad {
          @Cached({ key: 42 as unknown as string })
          run() {}
        }
        return Bad;
      }).toThrow(InvalidArgumentError);
      expect(() => {
        class Bad {
          @CacheEvict({ namespace: 'x' })
          run() {}
        }
        return Bad;
      }).toThrow(InvalidArgumentError);
    });
  });
}

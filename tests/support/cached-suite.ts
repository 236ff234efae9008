import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  Cached,
  CacheEvict,
  CacheKeyConflictError,
  CachePut,
  cached,
  cacheKeyOf,
  configure,
  type Enterprise,
  InvalidArgumentError,
  MonitorPerformance,
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

    // Outside UserService: a class that names itself in its decorators is renamed by esbuild.
    class ProfileEditor {
      @CachePut({
        namespace: 'users',
        key: (user: { id: string }) => cacheKeyOf(UserService, 'getUserProfile', user.id),
      })
      async saveProfile(user: { id: string; label: string }) {
        calls.push(`save:${user.id}`);
        return { ...user, options: {} };
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

    it('stores under the default key Class.method@site:<arguments>, which cacheKeyOf gives', async () => {
      await new UserService().getUserProfile('5');
      const key = cacheKeyOf(UserService, 'getUserProfile', '5');
      expect(key).toMatch(/^UserService\.getUserProfile@[0-9a-f]{8}:\["5"\]$/);
      expect(await enterprise.cache.get(key, { namespace: 'users' })).toMatchObject({ id: '5' });
      expect(cacheKeyOf(new UserService(), 'getUserProfile', '5')).toBe(key);
      await new UserService().getUserProfile('5', { deep: true });
      expect(
        await enterprise.cache.get(cacheKeyOf(UserService, 'getUserProfile', '5', { deep: true }), {
          namespace: 'users',
        }),
      ).toMatchObject({ options: { deep: true } });
      // A `key` option is used as written.
      expect(cacheKeyOf(UserService, 'countFor', 'abc')).toBe('count:abc');
    });

    it('@CachePut with cacheKeyOf refreshes what the @Cached method reads', async () => {
      const service = new UserService();
      await service.getUserProfile('7');
      await new ProfileEditor().saveProfile({ id: '7', label: 'renamed' });
      expect(await service.getUserProfile('7')).toEqual({ id: '7', label: 'renamed', options: {} });
      expect(calls).toEqual(['get:7', 'save:7']);
    });

    it('cacheKeyOf finds a @Cached method under other decorators, and refuses what is not cached', async () => {
      class Stacked {
        @MonitorPerformance()
        @Cached({ namespace: 'stacked' })
        async find(id: string) {
          return `found ${id}`;
        }

        plain(id: string) {
          return id;
        }

        @Cached({ namespace: 'stacked' })
        static async double(n: number) {
          return n * 2;
        }
      }
      await new Stacked().find('1');
      await Stacked.double(4);
      expect(
        await enterprise.cache.get(cacheKeyOf(Stacked, 'double', 4), { namespace: 'stacked' }),
      ).toBe(8);
      const key = cacheKeyOf(Stacked, 'find', '1');
      expect(key).toMatch(/^Stacked\.find@[0-9a-f]{8}:\["1"\]$/);
      expect(await enterprise.cache.get(key, { namespace: 'stacked' })).toBe('found 1');
      expect(() => cacheKeyOf(Stacked, 'plain', '1')).toThrow(InvalidArgumentError);
      expect(() => cacheKeyOf(Stacked, 'missing' as 'plain', '1')).toThrow(/has no @Cached/);
      expect(() => cacheKeyOf((id: string) => id, '1')).toThrow(InvalidArgumentError);
    });

    it('refuses a second class of the same name defined by the same code, when it is first called', async () => {
      const defineRepo = () => {
        class Repo {
          @Cached({ namespace: 'repeated' })
          async find(id: string) {
            return id;
          }
        }
        return Repo;
      };
      const First = defineRepo();
      const Second = defineRepo();
      expect(await new First().find('1')).toBe('1');
      const refused = new Second().find('1');
      expect(refused).toBeInstanceOf(Promise);
      const error = await refused.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CacheKeyConflictError);
      expect(error).toMatchObject({ code: 'E_CACHE_KEY_CONFLICT' });
      expect((error as Error).message).toMatch(
        /Repo\.find at \S+cached-suite\.ts:\d+:\d+ would derive .*as Repo\.find at \S+cached-suite\.ts:\d+:\d+ \(in a different class of the same name\).*`key` option/,
      );
      // Refused on every call, and the first class keeps working.
      await expect(new Second().find('2')).rejects.toBeInstanceOf(CacheKeyConflictError);
      expect(await new First().find('2')).toBe('2');
    });

    it('refuses two classes of one name that inherit the same cached method', async () => {
      class Base {
        @Cached({ namespace: 'clones' })
        async find(id: string) {
          return `${id} of ${this.constructor.name}`;
        }
      }
      const makeClone = () => class Clone extends Base {};
      const First = makeClone();
      const Second = makeClone();
      expect(await new First().find('1')).toBe('1 of Clone');
      await expect(new Second().find('1')).rejects.toMatchObject({
        code: 'E_CACHE_KEY_CONFLICT',
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
      expect(cacheKeyOf(UserRepo, 'findById', 1)).toMatch(/^UserRepo\.findById@/);
      expect(cacheKeyOf(OrderRepo, 'findById', 1)).toMatch(/^OrderRepo\.findById@/);
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
      const key = cacheKeyOf(square, 4);
      // esbuild may rename the inner function (square2): the key follows its runtime name.
      expect(key).toMatch(new RegExp(`^${square.name}@[0-9a-f]{8}:\\[4\\]$`));
      expect(await enterprise.cache.get(key, { namespace: 'math' })).toBe(16);
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

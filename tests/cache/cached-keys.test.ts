import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { runInThisContext } from 'node:vm';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { packagePath, shortHash } from '../../src/cache/decoration-site.js';
import {
  Cached,
  CacheKeyConflictError,
  cached,
  cacheKeyOf,
  configure,
  type Enterprise,
  getEnterprise,
} from '../../src/index.js';
import * as products from './fixtures/products.js';
import * as users from './fixtures/users.js';

/**
 * Default keys of cached functions and methods: distinct for distinct functions, alike in every
 * process of one build. The behaviour shared by both decorator modes is in tests/support/cached-suite.ts.
 */

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

let enterprise: Enterprise;

beforeEach(() => {
  enterprise = configure({ logLevel: 'silent', env: {}, performance: { systemMetrics: false } });
});

afterAll(async () => {
  await getEnterprise().shutdown();
});

describe('default keys of cached functions', () => {
  it('keeps apart two functions named load in two modules, in one namespace', async () => {
    expect(await users.load('1')).toEqual({ kind: 'user', id: '1' });
    expect(await products.load('1')).toEqual({ kind: 'product', id: '1' });
    expect(await users.load('1')).toEqual({ kind: 'user', id: '1' });
    expect(cacheKeyOf(users.load, '1')).not.toBe(cacheKeyOf(products.load, '1'));
  });

  it('refuses a second, different function made by the same line, naming both', () => {
    const loaderFor = (tenant: string) =>
      cached({ namespace: 'tenants' }, async function load(id: string) {
        return `${tenant}:${id}`;
      });
    const first = loaderFor('a');
    let error: unknown;
    try {
      loaderFor('b');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CacheKeyConflictError);
    expect(error).toMatchObject({ code: 'E_CACHE_KEY_CONFLICT' });
    const site = '@revcopy/enterprise/tests/cache/cached-keys\\.test\\.ts:\\d+:\\d+';
    expect((error as Error).message).toMatch(
      new RegExp(
        `^load\\S* at ${site} would derive the default cache keys 'load\\S*@[0-9a-f]{8}:…' in namespace 'tenants', as load\\S* at ${site} \\(a different function still in use\\)`,
      ),
    );
    expect((error as Error).message).toContain('`key` option');
    expect(first).toBeTypeOf('function');
  });

  it('accepts the same function twice, and the same line in distinct namespaces', async () => {
    async function find(id: string) {
      return `found ${id}`;
    }
    const wrap = (namespace: string) => cached({ namespace }, find);
    const once = wrap('twice');
    const again = wrap('twice');
    expect(cacheKeyOf(again, '1')).toBe(cacheKeyOf(once, '1'));
    expect(await once('1')).toBe('found 1');
    const perTenant = (tenant: string) =>
      cached({ namespace: `tenant-${tenant}` }, async function load(id: string) {
        return `${tenant}:${id}`;
      });
    const a = perTenant('a');
    const b = perTenant('b');
    expect([await a('1'), await b('1')]).toEqual(['a:1', 'b:1']);
  });

  it('uses a given key as written, with no site', async () => {
    const byId = cached({ namespace: 'given', key: (id: string) => `item:${id}` }, (id: string) =>
      id.toUpperCase(),
    );
    expect(cacheKeyOf(byId, 'x')).toBe('item:x');
    await byId('x');
    expect(await enterprise.cache.get('item:x', { namespace: 'given' })).toBe('X');
  });

  it('derives keys from the name alone for code with no script name, and refuses a second function there', () => {
    const evaluate = new Function(
      'cached',
      'return cached({ namespace: "evaluated" }, async function fromEval(id) { return id; });',
    ) as (fn: typeof cached) => (id: string) => Promise<string>;
    const first = evaluate(cached);
    expect(cacheKeyOf(first, '1')).toBe(`fromEval@${shortHash('fromEval')}:["1"]`);
    expect(() => evaluate(cached)).toThrow(/fromEval at code with no script name/);
  });

  it('names a script that is not a file by its name (a bundler in development)', () => {
    const define = (filename: string) =>
      runInThisContext(
        '(cached) => cached({ namespace: "bundled" }, async function load(id) { return id; })',
        { filename },
      )(cached) as (id: string) => Promise<string>;
    const users = define('webpack-internal:///./src/users.ts');
    const products = define('webpack-internal:///./src/products.ts');
    expect(cacheKeyOf(users, '1')).toMatch(/^load@[0-9a-f]{8}:\["1"\]$/);
    expect(cacheKeyOf(users, '1')).not.toBe(`load@${shortHash('load')}:["1"]`);
    expect(cacheKeyOf(products, '1')).not.toBe(cacheKeyOf(users, '1'));
  });

  it('reads the stack when decorating, never when calling', async () => {
    class Catalog {
      @Cached({ namespace: 'hot' })
      async find(id: string) {
        return id;
      }
    }
    const find = cached({ namespace: 'hot' }, async function findItem(id: number) {
      return id;
    });
    const catalog = new Catalog();
    await catalog.find('1');
    await find(1);
    const capture = vi.spyOn(Error, 'captureStackTrace');
    try {
      for (let i = 0; i < 100; i++) {
        await catalog.find(String(i % 3));
        await find(i % 3);
      }
      expect(capture).not.toHaveBeenCalled();
    } finally {
      capture.mockRestore();
    }
  });
});

describe('default keys across processes', () => {
  const app = join(root, 'tests', 'cache', 'fixtures', 'keys-app');
  let copies = '';

  afterEach(() => {
    if (copies !== '') rmSync(copies, { recursive: true, force: true });
    copies = '';
  });

  /** The keys the fixture app prints when run with tsx from `dir`. */
  async function keysOf(dir: string): Promise<string[]> {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(dir, 'main.ts')], {
      cwd: root,
      env: {
        ...process.env,
        ENTERPRISE_ENTRY: pathToFileURL(join(root, 'src', 'cache', 'index.ts')).href,
      },
      timeout: 60_000,
    });
    return JSON.parse(stdout.trim()) as string[];
  }

  it('are the same in every process and wherever the package is installed', async () => {
    copies = mkdtempSync(join(tmpdir(), 'enterprise-keys-'));
    const elsewhere = join(copies, 'a', 'keys-app');
    const deeper = join(copies, 'b', 'srv', 'releases', '42', 'keys-app');
    for (const copy of [elsewhere, deeper]) {
      mkdirSync(copy, { recursive: true });
      cpSync(app, copy, { recursive: true });
    }
    const [here, there, further, again] = await Promise.all([
      keysOf(app),
      keysOf(elsewhere),
      keysOf(deeper),
      keysOf(app),
    ]);
    expect(here).toEqual([
      expect.stringMatching(/^load@[0-9a-f]{8}:\["1"\]$/),
      expect.stringMatching(/^UserService\.getUserProfile@[0-9a-f]{8}:\["42"\]$/),
    ]);
    expect(there).toEqual(here);
    expect(further).toEqual(here);
    expect(again).toEqual(here);
  }, 120_000);

  it('name a file by its package and its path in it, not by where it is installed', () => {
    copies = mkdtempSync(join(tmpdir(), 'enterprise-keys-'));
    const one = join(copies, 'one', 'node_modules', 'shop');
    const two = join(copies, 'two', 'deploy', 'shop');
    const stub = join(copies, 'stub', 'dist');
    for (const dir of [one, two]) {
      mkdirSync(join(dir, 'src', 'users'), { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'shop' }));
    }
    mkdirSync(stub, { recursive: true });
    writeFileSync(join(stub, 'package.json'), JSON.stringify({ type: 'module' }));
    expect(packagePath(join(one, 'src', 'users', 'load.js'))).toBe('shop/src/users/load.js');
    expect(packagePath(join(two, 'src', 'users', 'load.js'))).toBe('shop/src/users/load.js');
    // A package.json with no name (the `type` stub of a dual build) still marks the root.
    expect(packagePath(join(stub, 'index.js'))).toBe('index.js');
  });
});

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import config from '../../tsup.config.js';

/**
 * Each subpath entry loads only its module and what lies below it (ARCHITECTURE.md): every built
 * entry is loaded in a fresh process, in both module systems, and the package's own source files
 * (read from the chunks' source maps) and the third-party packages it loaded are checked.
 */

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const probe = fileURLToPath(new URL('./load-probe.mjs', import.meta.url));
let dir = '';

beforeAll(async () => {
  const cache = join(root, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  // The real path: the loader reports files by it, also where node_modules is a symbolic link.
  dir = realpathSync(mkdtempSync(join(cache, 'enterprise-entries-')));
  const options = Array.isArray(config) ? config[0] : config;
  await build({ ...options, dts: false, outDir: dir, silent: true, config: false });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
}, 120_000);

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

interface Loaded {
  sources: string[];
  packages: string[];
}

async function load(entry: string, mode: 'esm' | 'cjs'): Promise<Loaded> {
  const file = join(dir, `${entry}.${mode === 'esm' ? 'js' : 'cjs'}`);
  const { stdout } = await run(process.execPath, [probe, file, mode, dir], { timeout: 30_000 });
  const loaded = JSON.parse(stdout) as Loaded;
  // The CommonJS build's `import.meta.url` shim is the bundler's, not a module of ours.
  return { ...loaded, sources: loaded.sources.filter((s) => s.startsWith('src/')) };
}

/** Which of our folders an entry may load, and which packages it must not. */
const EXPECTED: Record<string, { modules: string[]; forbiddenPackages: string[] }> = {
  'performance/index': {
    modules: ['core', 'performance'],
    forbiddenPackages: ['ioredis', 'lru-cache', 'hono', 'msgpackr', 'cockatiel'],
  },
  'cache/index': {
    // The remote tiers run through the resilience module's circuit breakers.
    modules: ['core', 'performance', 'redis', 'resilience', 'cache', 'compose'],
    forbiddenPackages: ['hono', 'ioredis', 'pg', 'better-sqlite3', 'cockatiel'],
  },
  'tasks/index': {
    modules: ['core', 'performance', 'redis', 'tasks', 'compose'],
    forbiddenPackages: ['hono', 'lru-cache', 'ioredis'],
  },
  'alerts/index': {
    // The health checks the alerts watch are the monitoring module's (its health checker alone).
    modules: ['core', 'performance', 'redis', 'resilience', 'monitoring', 'alerts', 'compose'],
    forbiddenPackages: ['hono', 'lru-cache', 'ioredis', 'nodemailer'],
  },
  'security/index': {
    modules: ['core', 'performance', 'redis', 'security', 'compose'],
    forbiddenPackages: ['hono', 'lru-cache', 'ioredis', 'msgpackr'],
  },
  'resilience/index': {
    // compose/resilience.ts exports the process's breakers in every instance's metrics.
    modules: ['core', 'performance', 'compose', 'resilience'],
    forbiddenPackages: ['ioredis', 'lru-cache', 'hono', 'msgpackr', 'cockatiel', 'opossum'],
  },
  'analytics/index': {
    modules: ['core', 'performance', 'redis', 'analytics', 'compose'],
    forbiddenPackages: ['hono', 'lru-cache', 'ioredis', 'pg', 'msgpackr'],
  },
  'maintenance/index': {
    // Registers its tasks with the task engine; runs the monitoring module's health checks (its
    // health checker alone), like the alerts; reads the cache, history and alerts only through the instance.
    modules: [
      'core',
      'performance',
      'redis',
      'resilience',
      'tasks',
      'monitoring',
      'compose',
      'maintenance',
    ],
    forbiddenPackages: ['hono', 'lru-cache', 'ioredis', 'pg', 'better-sqlite3', 'msgpackr'],
  },
  'monitoring/index': {
    modules: ['core', 'performance', 'resilience', 'monitoring'],
    forbiddenPackages: ['ioredis', 'lru-cache', 'msgpackr'],
  },
  // The adapters' `security` option reaches the security module through the instance: none of
  // its code is loaded by an adapter entry.
  'adapters/express': {
    modules: ['core', 'performance', 'resilience', 'monitoring', 'adapters'],
    forbiddenPackages: ['ioredis', 'lru-cache', 'msgpackr', 'express'],
  },
  'adapters/fastify': {
    modules: ['core', 'performance', 'resilience', 'monitoring', 'adapters'],
    forbiddenPackages: ['ioredis', 'lru-cache', 'msgpackr', 'fastify'],
  },
  'adapters/koa': {
    modules: ['core', 'performance', 'resilience', 'monitoring', 'adapters'],
    forbiddenPackages: ['ioredis', 'lru-cache', 'msgpackr', 'koa'],
  },
  'adapters/hono': {
    modules: ['core', 'performance', 'resilience', 'monitoring', 'adapters'],
    forbiddenPackages: ['ioredis', 'lru-cache', 'msgpackr'],
  },
  'adapters/nestjs': {
    // Its discovery of @BackgroundTask providers reads the tasks module's handler registry.
    modules: ['core', 'performance', 'resilience', 'tasks', 'monitoring', 'adapters'],
    forbiddenPackages: ['ioredis', 'lru-cache', 'msgpackr', '@nestjs/common', '@nestjs/core'],
  },
  // Not an export: the script sandboxed task handlers' threads and processes start. It stands
  // alone (Node's own modules only), so a thread loads nothing else of the package.
  'tasks/sandbox-runner': {
    modules: ['tasks'],
    forbiddenPackages: ['ioredis', 'lru-cache', 'hono', 'msgpackr', 'pino', 'cron-parser'],
  },
  'adapters/node': {
    modules: ['core', 'performance', 'resilience', 'monitoring', 'adapters'],
    forbiddenPackages: ['ioredis', 'lru-cache', 'msgpackr'],
  },
};

function folders(sources: readonly string[]): string[] {
  const names = sources.map((source) => {
    const [, folder] = source.split('/');
    return folder?.endsWith('.ts') ? folder.slice(0, -3) : (folder ?? '');
  });
  return [...new Set(names)].sort();
}

describe.each(['esm', 'cjs'] as const)('built entries load only what they need (%s)', (mode) => {
  it.each(Object.entries(EXPECTED))('%s', async (entry, expected) => {
    const loaded = await load(entry, mode);
    // The composition root is the only file above the modules an entry may load.
    const allowed = [...expected.modules, 'enterprise'].sort();
    expect(folders(loaded.sources).filter((folder) => !allowed.includes(folder))).toEqual([]);
    expect(loaded.packages.filter((name) => expected.forbiddenPackages.includes(name))).toEqual([]);
    // The entry's own module is there: the probe sees what it should.
    expect(folders(loaded.sources)).toContain(expected.modules.at(-1));
  });

  it('the root entry composes every module (the probe can see them all)', async () => {
    const loaded = await load('index', mode);
    expect(folders(loaded.sources)).toEqual(
      expect.arrayContaining(['cache', 'compose', 'core', 'enterprise', 'performance', 'tasks']),
    );
    expect(loaded.packages).toContain('lru-cache');
  });
});

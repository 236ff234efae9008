import { availableParallelism } from 'node:os';
import { relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../../src/core/errors.js';
import { createEnterprise, type Enterprise } from '../../../src/index.js';
import {
  BackgroundTask,
  backgroundTask,
  type TaskContext,
  TaskSandboxCloneError,
  TaskSandboxFileError,
  unregisterTask,
} from '../../../src/tasks/index.js';
import { SandboxPool } from '../../../src/tasks/sandbox/pool.js';
import { checkSandbox, defaultPoolSize } from '../../../src/tasks/sandbox/spec.js';
import { fixture, fixturePath } from './suite.js';

const instances: Enterprise[] = [];
const names: string[] = [];

function make(): Enterprise {
  const e = createEnterprise({
    logLevel: 'silent',
    env: {},
    performance: { systemMetrics: false },
  });
  instances.push(e);
  return e;
}

afterEach(async () => {
  await Promise.all(instances.splice(0).map((e) => e.shutdown()));
  for (const name of names.splice(0)) unregisterTask(name);
});

describe('registering a sandboxed handler', () => {
  it('fails at registration when the file does not exist, naming the path and the rule', () => {
    const attempt = () => backgroundTask('sbx_missing', { sandbox: './no/such/handler.js' });
    expect(attempt).toThrow(TaskSandboxFileError);
    expect(attempt).toThrow(/no\/such\/handler\.js does not exist .*working directory/);
    try {
      attempt();
    } catch (error) {
      expect((error as TaskSandboxFileError).code).toBe('E_TASK_SANDBOX_FILE');
    }
    expect(() => make().tasks.register('sbx_missing', { sandbox: { file: '/nope.mjs' } })).toThrow(
      TaskSandboxFileError,
    );
    expect(() =>
      BackgroundTask('sbx_missing', { sandbox: new URL('file:///no/such/file.mjs') }),
    ).toThrow(TaskSandboxFileError);
  });

  it('resolves a relative path against the working directory; takes absolute paths and file URLs', () => {
    const path = fixturePath('ok.mjs');
    expect(checkSandbox(relative(process.cwd(), path)).file).toBe(path);
    expect(checkSandbox(path).file).toBe(path);
    expect(checkSandbox(fixture('ok.mjs')).file).toBe(path);
    expect(checkSandbox(fixture('ok.mjs').href).file).toBe(path);
  });

  it('refuses bad settings with InvalidArgumentError naming the option', () => {
    const file = fixture('ok.mjs');
    expect(() => checkSandbox({ file, kind: 'fork' as 'thread' })).toThrow(
      /options\.sandbox\.kind/,
    );
    expect(() => checkSandbox({ file, poolSize: 0 })).toThrow(InvalidArgumentError);
    expect(() => checkSandbox({ file, poolSize: 1.5 })).toThrow(/poolSize/);
    expect(() => checkSandbox({ file, maxMemoryMb: 2 })).toThrow(/maxMemoryMb/);
    expect(() => checkSandbox({ file, abortGrace: -1 })).toThrow(/abortGrace/);
    expect(() => checkSandbox(42)).toThrow(InvalidArgumentError);
    expect(() => checkSandbox({ file: '' })).toThrow(/options\.sandbox\.file/);
  });

  it('defaults the pool to the number of cores minus one, at least one', () => {
    expect(defaultPoolSize()).toBe(Math.max(1, availableParallelism() - 1));
    expect(checkSandbox(fixture('ok.mjs')).poolSize).toBe(defaultPoolSize());
    expect(checkSandbox({ file: fixture('ok.mjs'), poolSize: 3 }).poolSize).toBe(3);
  });

  it('backgroundTask(name, { sandbox }) registers the file and returns its name and submit()', async () => {
    names.push('sbx_fn');
    const task = backgroundTask('sbx_fn', { sandbox: fixture('ok.mjs'), maxRetries: 0 });
    expect(task.taskName).toBe('sbx_fn');
    expect(typeof task.submit).toBe('function');
    const e = make();
    await e.start();
    const id = await e.tasks.submit('sbx_fn', { n: 4 });
    expect((await e.tasks.waitFor(id, { timeout: 20 })).result).toMatchObject({ doubled: 8 });
  });

  it('@BackgroundTask(name, { sandbox }) runs the file; the method stays an ordinary method', async () => {
    names.push('sbx_method');
    class Images {
      @BackgroundTask('sbx_method', { sandbox: { file: fixture('ok.mjs'), poolSize: 1 } })
      resize(payload: { n: number }, _context?: TaskContext) {
        return { inline: payload.n };
      }
    }
    // No instance is needed: the tasks run in the sandbox.
    const e = make();
    await e.start();
    const id = await e.tasks.submit('sbx_method', { n: 5 });
    const result = (await e.tasks.waitFor(id, { timeout: 20 })).result as { threadId: number };
    expect(result).toMatchObject({ doubled: 10 });
    expect(result.threadId).toBeGreaterThan(0);
    expect(new Images().resize({ n: 5 })).toEqual({ inline: 5 });
  });
});

describe.each(['thread', 'process'] as const)('sending values to a sandbox (%s)', (kind) => {
  it('a payload that cannot be structured-cloned is a TaskSandboxCloneError, and the pool goes on', async () => {
    const log = { debug() {}, info() {}, warn() {}, error() {}, child: () => log };
    const pool = new SandboxPool(checkSandbox({ file: fixture('ok.mjs'), kind, poolSize: 1 }), log);
    const context = (id: string) =>
      ({
        id,
        name: 'sbx_direct',
        queue: 'default',
        attempt: 1,
        signal: new AbortController().signal,
        progress() {},
        rateLimited(): never {
          throw new Error('not used here');
        },
      }) satisfies TaskContext;
    try {
      const bad = pool.run({ n: 1, callback: () => 1 }, context('a'));
      await expect(bad).rejects.toBeInstanceOf(TaskSandboxCloneError);
      await expect(bad).rejects.toMatchObject({ code: 'E_TASK_SANDBOX_CLONE' });
      await expect(pool.run({ n: 2 }, context('b'))).resolves.toMatchObject({ doubled: 4 });
      expect(pool.size).toBe(1);
    } finally {
      await pool.close();
    }
    expect(pool.size).toBe(0);
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  createEnterprise,
  getContext,
  getCorrelationId,
  InvalidArgumentError,
  isValidCorrelationId,
  withContext,
} from '../../src/index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('withContext', () => {
  it('generates a UUID correlation id when none is given', () => {
    const id = withContext(() => getCorrelationId());
    expect(id).toMatch(UUID);
  });

  it('generates a different id for every context', () => {
    const ids = new Set(Array.from({ length: 20 }, () => withContext(() => getCorrelationId())));
    expect(ids.size).toBe(20);
  });

  it('generates an id when the options carry no correlationId', () => {
    expect(withContext({}, () => getCorrelationId())).toMatch(UUID);
  });

  it('reuses a valid inbound id', () => {
    expect(withContext({ correlationId: 'req-123' }, () => getCorrelationId())).toBe('req-123');
    const id = 'a'.repeat(128);
    expect(withContext({ correlationId: id }, () => getCorrelationId())).toBe(id);
  });

  it.each([
    ['a newline (log injection)', 'abc\ninjected'],
    ['a carriage return', 'abc\rdef'],
    ['a space', 'abc def'],
    ['more than 128 characters', 'a'.repeat(129)],
    ['an empty string', ''],
    ['markup', '<script>'],
    ['a number', 42],
  ])('rejects an id with %s, without running the function', (_label, correlationId) => {
    let ran = false;
    expect(() =>
      withContext({ correlationId: correlationId as string }, () => {
        ran = true;
      }),
    ).toThrow(InvalidArgumentError);
    expect(ran).toBe(false);
  });

  it('says which argument was invalid', () => {
    try {
      withContext({ correlationId: 'a\nb' }, () => undefined);
      expect.unreachable();
    } catch (error) {
      const e = error as InvalidArgumentError;
      expect(e.code).toBe('E_INVALID_ARGUMENT');
      expect(e.context.argument).toBe('correlationId');
      expect(e.message).toContain('correlationId="a\\nb"');
      expect(e.message).not.toContain('\n');
    }
  });

  it('rejects a missing function', () => {
    expect(() => withContext({ correlationId: 'x' }, undefined as never)).toThrow(
      InvalidArgumentError,
    );
    expect(() => (withContext as (value: unknown) => unknown)(42)).toThrow(InvalidArgumentError);
  });

  it('returns what the function returns: a value, or the very same promise', async () => {
    expect(withContext(() => 42)).toBe(42);
    const promise = Promise.resolve('done');
    expect(withContext(() => promise)).toBe(promise);
    await expect(withContext(async () => getCorrelationId())).resolves.toMatch(UUID);
  });

  it('lets errors thrown by the function through unchanged', () => {
    const error = new Error('boom');
    expect(() =>
      withContext(() => {
        throw error;
      }),
    ).toThrow(error);
  });

  it('keeps the id across await, timers, setImmediate and queueMicrotask', async () => {
    const seen = await withContext({ correlationId: 'req-async' }, async () => {
      const ids: (string | undefined)[] = [getCorrelationId()];
      await Promise.resolve();
      ids.push(getCorrelationId());
      await sleep(5);
      ids.push(getCorrelationId());
      ids.push(await new Promise((resolve) => setTimeout(() => resolve(getCorrelationId()), 1)));
      ids.push(await new Promise((resolve) => setImmediate(() => resolve(getCorrelationId()))));
      ids.push(await new Promise((resolve) => queueMicrotask(() => resolve(getCorrelationId()))));
      return ids;
    });
    expect(seen).toEqual(Array(6).fill('req-async'));
  });

  it('keeps concurrent contexts apart under Promise.all', async () => {
    const run = (id: string, delay: number) =>
      withContext({ correlationId: id }, async () => {
        await sleep(delay);
        const first = getCorrelationId();
        await sleep(1);
        return [first, getCorrelationId()];
      });
    const results = await Promise.all([run('req-a', 6), run('req-b', 1), run('req-c', 3)]);
    expect(results).toEqual([
      ['req-a', 'req-a'],
      ['req-b', 'req-b'],
      ['req-c', 'req-c'],
    ]);
  });

  it('gives each branch of a Promise.all inside one context the same id', async () => {
    const ids = await withContext({ correlationId: 'req-fan-out' }, () =>
      Promise.all([1, 5, 2].map((ms) => sleep(ms).then(() => getCorrelationId()))),
    );
    expect(ids).toEqual(['req-fan-out', 'req-fan-out', 'req-fan-out']);
  });

  it('nests: the inner context has its own id and the outer id is restored after it', async () => {
    await withContext({ correlationId: 'outer' }, async () => {
      const inner = await withContext({ correlationId: 'inner' }, async () => {
        await sleep(1);
        return getCorrelationId();
      });
      expect(inner).toBe('inner');
      expect(getCorrelationId()).toBe('outer');
      const generated = withContext(() => getCorrelationId());
      expect(generated).toMatch(UUID);
      expect(getCorrelationId()).toBe('outer');
    });
  });

  it('leaves nothing behind once the function is done', async () => {
    await withContext({ correlationId: 'gone' }, async () => {
      await sleep(1);
    });
    expect(getCorrelationId()).toBeUndefined();
    expect(getContext()).toBeUndefined();
  });
});

describe('getCorrelationId and getContext', () => {
  it('are undefined outside any context', () => {
    expect(getCorrelationId()).toBeUndefined();
    expect(getContext()).toBeUndefined();
  });

  it('getContext exposes the correlation id and no span in a fresh context', () => {
    withContext({ correlationId: 'req-1' }, () => {
      expect(getContext()).toEqual({ correlationId: 'req-1', span: undefined });
    });
  });

  it('a monitored span keeps the correlation id and shows up as the current span', async () => {
    const enterprise = createEnterprise({
      env: {},
      logLevel: 'silent',
      performance: { systemMetrics: false },
    });
    const seen = withContext({ correlationId: 'req-span' }, () =>
      enterprise.performance.context('outer', () =>
        enterprise.performance.context('inner', () => getContext()),
      ),
    );
    expect(seen?.correlationId).toBe('req-span');
    expect(seen?.span?.name).toBe('inner');
    expect(seen?.span?.parent?.name).toBe('outer');
    await enterprise.shutdown();
  });
});

describe('isValidCorrelationId', () => {
  it.each([
    '3b241101-e2bb-4255-8caf-4136c566a962',
    'req-123',
    'a',
    'A.b_c:d@e/f+g=h-i',
    'x'.repeat(128),
  ])('accepts %j', (value) => {
    expect(isValidCorrelationId(value)).toBe(true);
  });

  it.each([
    undefined,
    null,
    42,
    {},
    '',
    'a b',
    'a\nb',
    'a\tb',
    'x'.repeat(129),
    '<script>',
    'id;drop',
    'é',
  ])('rejects %j', (value) => {
    expect(isValidCorrelationId(value)).toBe(false);
  });
});

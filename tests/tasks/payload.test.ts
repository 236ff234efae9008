import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, resolveBackoff } from '../../src/tasks/backoff.js';
import { decodeJson, encodeJson, toErrorInfo } from '../../src/tasks/payload.js';
import { normalizeMessage } from '../../src/tasks/task-analytics.js';

describe('payload encoding', () => {
  it('round-trips JSON values, and a top-level undefined', () => {
    for (const value of [null, 0, 'x', true, [1, 'a', null], { a: { b: [1, 2] } }, undefined]) {
      expect(decodeJson(encodeJson(value, 'payload'))).toEqual(value);
    }
    expect(decodeJson(encodeJson(new Date(0), 'payload'))).toBe('1970-01-01T00:00:00.000Z');
    expect(decodeJson(encodeJson({ a: 1, gone: undefined }, 'payload'))).toEqual({ a: 1 });
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(decodeJson(encodeJson({ a: shared, b: shared }, 'payload'))).toEqual({
      a: { x: 1 },
      b: { x: 1 },
    });
  });

  it('names the path of what cannot be stored', () => {
    expect(() => encodeJson({ list: [{ deep: () => 1 }] }, 'payload')).toThrow(
      'payload.list[0].deep cannot be stored as JSON: it is a function',
    );
    expect(() => encodeJson({ 'a-b': Number.POSITIVE_INFINITY }, 'result')).toThrow(
      'result["a-b"] cannot be stored as JSON',
    );
    expect(() => encodeJson(new Set([1]), 'payload')).toThrow(/Set/);
  });
});

describe('error info', () => {
  it('keeps name, message, stack and a string code', () => {
    const error = Object.assign(new TypeError('bad'), { code: 'E_BAD' });
    expect(toErrorInfo(error)).toMatchObject({ name: 'TypeError', message: 'bad', code: 'E_BAD' });
    expect(toErrorInfo(error).stack).toContain('TypeError: bad');
  });

  it('describes non-Errors', () => {
    expect(toErrorInfo(undefined)).toEqual({
      name: 'NonError',
      message: 'a non-Error was thrown: undefined',
    });
    expect(toErrorInfo(42).message).toContain('42');
    expect(toErrorInfo(Symbol('s')).message).toContain('Symbol(s)');
  });

  it('groups messages that differ only by numbers and ids', () => {
    expect(normalizeMessage('user 12 not found')).toBe(normalizeMessage('user 13 not found'));
    expect(normalizeMessage('task 3f2a9c1e-0000-4000-8000-000000000000 failed')).toBe(
      'task # failed',
    );
  });
});

describe('backoff', () => {
  it('grows exponentially up to the cap, without jitter', () => {
    const spec = {
      type: 'exponential' as const,
      delayMs: 100,
      factor: 2,
      maxDelayMs: 500,
      jitter: 0,
    };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(spec, a))).toEqual([100, 200, 400, 500, 500]);
    expect(backoffDelay({ ...spec, type: 'fixed' }, 4)).toBe(100);
  });

  it('randomizes the jitter fraction only', () => {
    const spec = {
      type: 'fixed' as const,
      delayMs: 1_000,
      factor: 2,
      maxDelayMs: 1_000,
      jitter: 0.5,
    };
    expect(backoffDelay(spec, 1, () => 0)).toBe(500);
    expect(backoffDelay(spec, 1, () => 1)).toBe(1_000);
    expect(backoffDelay({ ...spec, jitter: 1 }, 1, () => 0)).toBe(0);
  });

  it('resolves options over the default and validates them', () => {
    expect(resolveBackoff(undefined)).toEqual(DEFAULT_BACKOFF);
    expect(resolveBackoff('fixed').type).toBe('fixed');
    expect(resolveBackoff({ delay: '2s', maxDelay: 60 })).toMatchObject({
      delayMs: 2_000,
      maxDelayMs: 60_000,
    });
    expect(() => resolveBackoff({ jitter: 2 })).toThrow(/jitter/);
    expect(() => resolveBackoff({ type: 'linear' as never })).toThrow(/type/);
  });
});

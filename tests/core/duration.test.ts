import { describe, expect, it } from 'vitest';
import { EnterpriseError, InvalidArgumentError, parseDuration } from '../../src/index.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe('parseDuration', () => {
  it('reads a bare number as seconds, as in ttl: 3600', () => {
    expect(parseDuration(3600)).toBe(3_600_000);
    expect(parseDuration(1)).toBe(1_000);
    expect(parseDuration(0)).toBe(0);
  });

  it('accepts fractional seconds', () => {
    expect(parseDuration(0.25)).toBe(250);
    expect(parseDuration(1.5)).toBe(1_500);
  });

  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['0ms', 0],
    ['0s', 0],
  ])('converts %s with its unit', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['1.5h', 5_400_000],
    ['0.5s', 500],
    ['.5s', 500],
    ['2.5m', 150_000],
    ['1.25d', 108_000_000],
  ])('converts the decimal duration %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['3600', 3_600_000],
    ['1', 1_000],
    ['0.5', 500],
  ])('reads the numeric string %s as seconds, as environment variables hold', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('tolerates whitespace around the number and its unit', () => {
    expect(parseDuration(' 30s ')).toBe(30_000);
    expect(parseDuration('5 m')).toBe(300_000);
  });

  it.each<[string, unknown]>([
    ['a negative number', -1],
    ['a negative string', '-5s'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['an unknown unit', '5x'],
    ['a unit without a number', 'ms'],
    ['an empty string', ''],
    ['a blank string', '   '],
    ['a word', 'soon'],
    ['two durations', '1h30m'],
    ['an object', { seconds: 5 }],
    ['an array', [5]],
    ['null', null],
    ['undefined', undefined],
    ['a boolean', true],
  ])('rejects %s with InvalidArgumentError', (_label, value) => {
    const error = thrown(() => parseDuration(value, 'cache.defaultTtl'));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toBeInstanceOf(EnterpriseError);
    expect((error as InvalidArgumentError).code).toBe('E_INVALID_ARGUMENT');
  });

  it('names the option, shows the value and says what was expected', () => {
    const error = thrown(() => parseDuration('5x', 'tasks.timeout')) as InvalidArgumentError;
    expect(error.message).toContain('tasks.timeout');
    expect(error.message).toContain('"5x"');
    expect(error.message).toMatch(/expected .*seconds.*'30s'/);
    expect(error.context).toMatchObject({ argument: 'tasks.timeout', value: '5x' });
    expect(error.context.expected).toEqual(expect.stringContaining('seconds'));
  });

  it('names a generic "duration" when no option name is given', () => {
    const error = thrown(() => parseDuration(-5)) as InvalidArgumentError;
    expect(error.message).toContain('duration=-5');
    expect(error.context.argument).toBe('duration');
  });

  it('keeps objects in the message readable', () => {
    const error = thrown(() => parseDuration({ ms: 5 }, 'delay')) as InvalidArgumentError;
    expect(error.message).toContain('delay={"ms":5}');
    expect(error.context.value).toEqual({ ms: 5 });
  });
});

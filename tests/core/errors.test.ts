import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  EnterpriseError,
  InvalidArgumentError,
  LifecycleError,
  MissingDependencyError,
} from '../../src/index.js';

describe('EnterpriseError', () => {
  it('carries a stable code, the message and the class name', () => {
    const error = new EnterpriseError('E_SOMETHING', 'something failed');
    expect(error.code).toBe('E_SOMETHING');
    expect(error.message).toBe('something failed');
    expect(error.name).toBe('EnterpriseError');
    expect(error).toBeInstanceOf(Error);
    expect(typeof error.stack).toBe('string');
    expect(String(error)).toBe('EnterpriseError: something failed');
  });

  it('freezes its context and copies it, so later changes to the input do not leak in', () => {
    const input: Record<string, unknown> = { key: 'user:1' };
    const error = new EnterpriseError('E_X', 'x', { context: input });
    input.key = 'changed';
    expect(error.context).toEqual({ key: 'user:1' });
    expect(Object.isFrozen(error.context)).toBe(true);
    expect(() => {
      (error.context as Record<string, unknown>).key = 'mutated';
    }).toThrow(TypeError);
    expect(error.context.key).toBe('user:1');
  });

  it('has an empty frozen context when none is given', () => {
    const error = new EnterpriseError('E_X', 'x');
    expect(error.context).toEqual({});
    expect(Object.isFrozen(error.context)).toBe(true);
  });

  it('keeps the cause, including non-Error causes', () => {
    const root = new TypeError('socket closed');
    expect(new EnterpriseError('E_X', 'x', { cause: root }).cause).toBe(root);
    expect(new EnterpriseError('E_X', 'x', { cause: 'a string' }).cause).toBe('a string');
    expect('cause' in new EnterpriseError('E_X', 'x')).toBe(false);
  });

  it('serialises to JSON with name, code, message and context', () => {
    const error = new EnterpriseError('E_X', 'boom', { context: { attempt: 2 } });
    expect(error.toJSON()).toEqual({
      name: 'EnterpriseError',
      code: 'E_X',
      message: 'boom',
      context: { attempt: 2 },
    });
    expect(JSON.parse(JSON.stringify({ error }))).toEqual({
      error: { name: 'EnterpriseError', code: 'E_X', message: 'boom', context: { attempt: 2 } },
    });
  });

  it('names user subclasses after themselves', () => {
    class PaymentError extends EnterpriseError {}
    const error = new PaymentError('E_PAYMENT', 'declined');
    expect(error.name).toBe('PaymentError');
    expect(error).toBeInstanceOf(EnterpriseError);
    expect(error.toJSON().name).toBe('PaymentError');
  });
});

describe('EnterpriseError subclasses', () => {
  const cause = new Error('root cause');
  const cases = [
    {
      error: new ConfigError(
        'TASK_WORKER_COUNT="x" is invalid',
        { source: 'TASK_WORKER_COUNT', value: 'x', expected: 'a positive whole number' },
        cause,
      ),
      type: ConfigError,
      name: 'ConfigError',
      code: 'E_CONFIG_INVALID',
      context: { source: 'TASK_WORKER_COUNT', value: 'x', expected: 'a positive whole number' },
    },
    {
      error: new InvalidArgumentError(
        'name="" is invalid',
        { argument: 'name', value: '', expected: 'a non-empty string' },
        cause,
      ),
      type: InvalidArgumentError,
      name: 'InvalidArgumentError',
      code: 'E_INVALID_ARGUMENT',
      context: { argument: 'name', value: '', expected: 'a non-empty string' },
    },
    {
      error: new LifecycleError('cannot start', { state: 'stopped' }),
      type: LifecycleError,
      name: 'LifecycleError',
      code: 'E_LIFECYCLE',
      context: { state: 'stopped' },
    },
    {
      error: new MissingDependencyError('@opentelemetry/api', 'performance.openTelemetry', cause),
      type: MissingDependencyError,
      name: 'MissingDependencyError',
      code: 'E_MISSING_DEPENDENCY',
      context: { package: '@opentelemetry/api', feature: 'performance.openTelemetry' },
    },
  ];

  it.each(cases)('$name has code $code, its own name and a frozen context', (c) => {
    expect(c.error.name).toBe(c.name);
    expect(c.error.code).toBe(c.code);
    expect(c.error.context).toEqual(c.context);
    expect(Object.isFrozen(c.error.context)).toBe(true);
    expect(c.error.toJSON()).toMatchObject({ name: c.name, code: c.code, context: c.context });
  });

  it.each(cases)('$name is an instance of itself, EnterpriseError and Error', (c) => {
    expect(c.error).toBeInstanceOf(c.type);
    expect(c.error).toBeInstanceOf(EnterpriseError);
    expect(c.error).toBeInstanceOf(Error);
    const others = cases.map((other) => other.type).filter((type) => type !== c.type);
    for (const other of others) expect(c.error).not.toBeInstanceOf(other);
  });

  it('keeps the cause given to ConfigError, InvalidArgumentError and MissingDependencyError', () => {
    for (const c of cases) {
      if (c.type === LifecycleError) continue;
      expect(c.error.cause).toBe(cause);
    }
  });

  it('LifecycleError has an empty context by default', () => {
    expect(new LifecycleError('too late').context).toEqual({});
  });

  it('MissingDependencyError tells how to install the missing package', () => {
    const error = new MissingDependencyError('pg', 'the postgres cache tier');
    expect(error.message).toContain('the postgres cache tier');
    expect(error.message).toContain('"pg"');
    expect(error.message).toContain('npm install pg');
  });
});

import { TaskPayloadError } from './errors.js';
import type { TaskErrorInfo } from './types.js';

/**
 * How a top-level `undefined` is stored: JSON has no text for it, and a task submitted without a
 * payload (or a handler that returns nothing) must come back as `undefined`, not `null`.
 */
const UNDEFINED = '';

/**
 * Serializes a payload, result or progress value to JSON text, refusing what JSON would silently
 * change or cannot represent: functions, symbols, BigInt, cycles, non-finite numbers, Map and Set.
 * A top-level `undefined` is kept (as an empty text); nested `undefined` properties are dropped as
 * JSON does.
 *
 * @internal
 */
export function encodeJson(value: unknown, what: string): string {
  if (value === undefined) return UNDEFINED;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') {
    return JSON.stringify(value);
  }
  check(value, what, [], []);
  return JSON.stringify(value);
}

/** @internal Parses what {@link encodeJson} produced. */
export function decodeJson(text: string | undefined): unknown {
  if (text === undefined || text === UNDEFINED) return undefined;
  return JSON.parse(text);
}

/**
 * Walks `value` for what JSON cannot hold. `path` holds the keys and indexes down to `value`; the
 * path's text is only built for a refusal, since building it for every key of a valid payload cost
 * twice what serializing the payload does.
 */
function check(value: unknown, what: string, path: (string | number)[], ancestors: object[]): void {
  switch (typeof value) {
    case 'function':
      throw refuse(what, path, 'is a function', value);
    case 'symbol':
      throw refuse(what, path, 'is a symbol', value);
    case 'bigint':
      throw refuse(what, path, 'is a BigInt (send it as a string)', value);
    case 'number':
      if (!Number.isFinite(value)) {
        throw refuse(what, path, `is ${value}, which JSON cannot hold`, value);
      }
      return;
    case 'object': {
      if (value === null) return;
      if (ancestors.includes(value)) {
        throw refuse(what, path, 'refers back to itself (a cycle)', value);
      }
      if (value instanceof Map || value instanceof Set) {
        throw refuse(
          what,
          path,
          `is a ${value instanceof Map ? 'Map' : 'Set'} (use a plain object or an array)`,
          value,
        );
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        // Dates and the like say themselves how they serialize.
        check((value as { toJSON(): unknown }).toJSON(), what, path, ancestors);
        return;
      }
      ancestors.push(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          path.push(i);
          check(value[i], what, path, ancestors);
          path.pop();
        }
      } else {
        const keys = Object.keys(value);
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i]!;
          const child = (value as Record<string, unknown>)[key];
          if (child === undefined) continue;
          path.push(key);
          check(child, what, path, ancestors);
          path.pop();
        }
      }
      ancestors.pop();
      return;
    }
    default:
      return;
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function refuse(
  what: string,
  keys: readonly (string | number)[],
  problem: string,
  value: unknown,
): TaskPayloadError {
  let path = what;
  for (const key of keys) {
    if (typeof key === 'number') path += `[${key}]`;
    else path += IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  }
  return new TaskPayloadError(`${path} cannot be stored as JSON: it ${problem}`, {
    path,
    type: value === null ? 'null' : typeof value,
  });
}

const MAX_STACK = 8_192;
const MAX_MESSAGE = 2_048;

/**
 * Turns whatever a handler threw into the plain data stored with the task. A thrown non-Error
 * becomes `{ name: 'NonError', message: <the value described> }`.
 *
 * @internal
 */
export function toErrorInfo(error: unknown): TaskErrorInfo {
  if (error instanceof Error) {
    const info: TaskErrorInfo = {
      name: typeof error.name === 'string' && error.name !== '' ? error.name : 'Error',
      message: clip(String(error.message), MAX_MESSAGE),
    };
    if (typeof error.stack === 'string') info.stack = clip(error.stack, MAX_STACK);
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') info.code = code;
    return info;
  }
  return { name: 'NonError', message: `a non-Error was thrown: ${describe(error)}` };
}

function describe(value: unknown): string {
  if (typeof value === 'string') return clip(JSON.stringify(value), MAX_MESSAGE);
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (typeof value === 'symbol' || typeof value === 'bigint') return `${String(value)}`;
  if (value === null || typeof value !== 'object') return String(value);
  try {
    return clip(JSON.stringify(value) ?? String(value), MAX_MESSAGE);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

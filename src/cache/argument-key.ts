import { configure } from 'safe-stable-stringify';
import { CacheCodecError } from './errors.js';

const stringify = configure({ deterministic: true, circularValue: Error, bigint: false });

/**
 * A stable text for a list of arguments: objects with the same content give the same text whatever
 * the order of their properties; Dates, Maps, Sets, BigInts, Buffers and `undefined` are told apart
 * from the strings and plain objects that look like them.
 *
 * @example
 * ```ts
 * argumentKey([{ b: 1, a: 2 }]) === argumentKey([{ a: 2, b: 1 }]); // true
 * ```
 */
export function argumentKey(args: readonly unknown[]): string {
  // Strings, finite numbers and booleans encode the same way in plain JSON: the common case of a
  // method called with ids skips the general path.
  if (args.every(isPlainPrimitive)) return JSON.stringify(args);
  try {
    const text = stringify(args.map(tagged));
    return text ?? '[]';
  } catch (error) {
    throw new CacheCodecError(
      `the arguments cannot be turned into a cache key (${(error as Error)?.message ?? 'a cycle, or a function?'}): pass a \`key\` function`,
      {},
      error,
    );
  }
}

/** Rewrites the values JSON would lose or confuse into tagged, sortable forms. */
function tagged(value: unknown): unknown {
  if (value === undefined) return { $undefined: true };
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (typeof value === 'function' || typeof value === 'symbol') {
    throw new TypeError(`a ${typeof value} cannot be part of a cache key`);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return { $date: value.toISOString() };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
  if (value instanceof Map) {
    return {
      $map: [...value.entries()]
        .map(([k, v]) => [stringify(tagged(k)), tagged(v)] as const)
        .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0)),
    };
  }
  if (value instanceof Set) {
    return { $set: [...value].map((v) => stringify(tagged(v))).sort() };
  }
  if (Array.isArray(value)) return value.map(tagged);
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    // A class instance: its own enumerable properties may not be what tells two apart (a URL
    // has none, #private fields are invisible), so it needs a JSON form or visible properties.
    const name =
      (prototype as { constructor?: { name?: string } }).constructor?.name ?? 'anonymous';
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return { $class: name, $json: tagged(toJSON.call(value)) };
    const entries = Object.entries(value);
    if (entries.length === 0) {
      throw new TypeError(
        `an instance of ${name} has no toJSON() and no enumerable properties to tell it apart`,
      );
    }
    return { $class: name, $fields: tagged(Object.fromEntries(entries)) };
  }
  const out: Record<string, unknown> = {};
  // Keys starting with `$` are doubled, so no plain object can pose as one of the tagged forms.
  for (const [k, v] of Object.entries(value)) out[k.startsWith('$') ? `$${k}` : k] = tagged(v);
  return out;
}

function isPlainPrimitive(value: unknown): boolean {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

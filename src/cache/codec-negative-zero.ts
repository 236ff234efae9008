import { isPlainPrototype } from './codec-values.js';

// Negative zero through MessagePack, which writes -0 as 0: a value holding -0 is stored as
// `[marker, copy]`, each -0 in `copy` replaced by a reference to `marker` (structured-clone mode),
// so after decoding the references to the decoded marker are exactly where -0 was.

/**
 * A copy of `value` with every -0 replaced by `marker` (the value itself when it holds none).
 *
 * @internal
 * @example
 * ```ts
 * const marker = {};
 * packr.pack([marker, escapeNegativeZero({ x: -0 }, marker, new Map())]);
 * ```
 */
export function escapeNegativeZero(
  value: unknown,
  marker: object,
  copies: Map<object, unknown>,
): unknown {
  if (typeof value === 'number') return value === 0 && 1 / value < 0 ? marker : value;
  if (typeof value !== 'object' || value === null) return value;
  const known = copies.get(value);
  if (known !== undefined) return known;
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    copies.set(value, copy);
    for (let index = 0; index < value.length; index++) {
      copy[index] = escapeNegativeZero(value[index], marker, copies);
    }
    return copy;
  }
  if (value instanceof Map) {
    const copy = new Map<unknown, unknown>();
    copies.set(value, copy);
    for (const [key, entry] of value) {
      copy.set(escapeNegativeZero(key, marker, copies), escapeNegativeZero(entry, marker, copies));
    }
    return copy;
  }
  if (value instanceof Set) {
    const copy = new Set<unknown>();
    copies.set(value, copy);
    for (const item of value) copy.add(escapeNegativeZero(item, marker, copies));
    return copy;
  }
  if (value instanceof Error) {
    // Same prototype, so msgpackr writes the same class; only what it stores is carried over.
    const copy = Object.create(Object.getPrototypeOf(value)) as Error & { errors?: unknown };
    copies.set(value, copy);
    copy.name = value.name;
    copy.message = value.message;
    copy.cause = escapeNegativeZero(value.cause, marker, copies);
    if (typeof AggregateError === 'function' && value instanceof AggregateError) {
      copy.errors = escapeNegativeZero(value.errors, marker, copies);
    }
    return copy;
  }
  if (isPlainPrototype(Object.getPrototypeOf(value))) {
    const copy: Record<string, unknown> = {};
    copies.set(value, copy);
    for (const key of Object.keys(value)) {
      copy[key] = escapeNegativeZero((value as Record<string, unknown>)[key], marker, copies);
    }
    return copy;
  }
  return value; // Date, RegExp, binary data: no JS numbers inside
}

/**
 * Puts -0 back wherever the decoded value holds `marker`, in place.
 *
 * @internal
 * @example
 * ```ts
 * const [marker, copy] = unpackr.unpack(body);
 * const value = restoreNegativeZero(copy, marker); // { x: -0 }
 * ```
 */
export function restoreNegativeZero(root: unknown, marker: unknown): unknown {
  if (root === marker) return -0;
  if (typeof root !== 'object' || root === null) return root;
  // Iterative: the decoded graph may be as deep as the input allows, and it may have cycles.
  const seen = new Set<object>([root]);
  const pending: object[] = [root];
  const follow = (child: unknown): void => {
    if (typeof child === 'object' && child !== null && !seen.has(child)) {
      seen.add(child);
      pending.push(child);
    }
  };
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index++) {
        if (node[index] === marker) node[index] = -0;
        else follow(node[index]);
      }
    } else if (node instanceof Map) {
      for (const [key, entry] of node) {
        follow(key);
        if (entry === marker) node.set(key, -0);
        else follow(entry);
      }
    } else if (node instanceof Set) {
      for (const item of node) follow(item);
    } else if (node instanceof Error) {
      if (node.cause === marker) node.cause = -0;
      else follow(node.cause);
      if (typeof AggregateError === 'function' && node instanceof AggregateError)
        follow(node.errors);
    } else if (Object.getPrototypeOf(node) === Object.prototype) {
      const record = node as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (record[key] === marker) record[key] = -0;
        else follow(record[key]);
      }
    }
  }
  return root;
}

import { CacheCodecError } from './errors.js';

// Which values the codec can encode: the scanner run before serializing. Private to codec.ts.

/**
 * Deeper values are refused at encode: MessagePack encoders and decoders recurse, and an entry
 * that one process can write but another (with less stack left) cannot read would be a miss
 * forever. 512 levels leave ample headroom below V8's default stack.
 */
const MAX_DEPTH = 512;

enum Kind {
  Array = 1,
  Map = 2,
  Set = 3,
  Error = 4,
  RegExp = 5,
  /** Types msgpackr restores exactly and that hold no JS values: Date, binary data. */
  Leaf = 6,
}

const ERROR_CLASSES: Array<new (...args: any[]) => Error> = [
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
];
if (typeof AggregateError === 'function') ERROR_CLASSES.push(AggregateError);

/**
 * The prototypes msgpackr restores. Anything else (a class instance, a subclass of one of these,
 * WeakMap, Promise, SharedArrayBuffer, a boxed primitive...) would come back with another
 * prototype or empty, so it is refused at encode instead.
 */
const KINDS = new Map<object, Kind>([
  [Array.prototype, Kind.Array],
  [Map.prototype, Kind.Map],
  [Set.prototype, Kind.Set],
  [RegExp.prototype, Kind.RegExp],
  [Date.prototype, Kind.Leaf],
  [ArrayBuffer.prototype, Kind.Leaf],
  [DataView.prototype, Kind.Leaf],
  [Buffer.prototype, Kind.Leaf],
]);
for (const ErrorClass of ERROR_CLASSES) KINDS.set(ErrorClass.prototype, Kind.Error);
// The typed arrays msgpackr knows by name (its list; Float16Array, where it exists, is not in it).
for (const name of [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
]) {
  const TypedArray = (globalThis as Record<string, unknown>)[name] as { prototype: object };
  KINDS.set(TypedArray.prototype, Kind.Leaf);
}

/** msgpackr rebuilds an error from its name: the class it will pick for each name. */
const ERROR_PROTOTYPE_BY_NAME = new Map<unknown, object>(
  ERROR_CLASSES.map((ErrorClass) => [ErrorClass.name, ErrorClass.prototype]),
);

/**
 * @internal A plain object of this realm, or of another one (a `vm` context): msgpackr writes both
 * as plain objects, and they come back as this realm's plain objects.
 */
export function isPlainPrototype(proto: object | null): boolean {
  if (proto === Object.prototype || proto === null) return true;
  if (Object.getPrototypeOf(proto) !== null) return false;
  const ctor = (proto as { constructor?: unknown }).constructor;
  return typeof ctor === 'function' && ctor.name === 'Object';
}

type WellFormed = { isWellFormed(): boolean };
const HAS_IS_WELL_FORMED =
  typeof (String.prototype as Partial<WellFormed>).isWellFormed === 'function';
/** Under the `u` flag surrogate pairs are one code point, so `\p{Cs}` matches only lone halves. */
const LONE_SURROGATE = /\p{Cs}/u;

function isWellFormed(text: string): boolean {
  return HAS_IS_WELL_FORMED
    ? (text as unknown as WellFormed).isWellFormed()
    : !LONE_SURROGATE.test(text);
}

/**
 * A value the scanner accepts without descending or tracking the path: most of any value is made
 * of these, and skipping the call for them is a good part of the scanner's speed. (Negative zero
 * is still noted by the caller.)
 */
function isSimpleLeaf(value: unknown): boolean {
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'undefined':
    case 'bigint':
      return true;
    case 'string':
      return isWellFormed(value);
    default:
      return value === null;
  }
}

type PathSegment = string | number | { label: string };

function formatPath(path: readonly PathSegment[]): string {
  let text = 'value';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (typeof segment === 'object') text += segment.label;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) text += `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

function className(value: object): string {
  const ctor = (Object.getPrototypeOf(value) as { constructor?: unknown } | null)?.constructor;
  return typeof ctor === 'function' && ctor.name ? ctor.name : 'object';
}

/** What an object is, for error messages: its class, and the built-in it derives from if any. */
function describeObject(value: object): string {
  let base: string | undefined;
  for (
    let proto = Object.getPrototypeOf(Object.getPrototypeOf(value));
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    if (KINDS.has(proto)) {
      base = (proto as { constructor: { name: string } }).constructor.name;
      break;
    }
  }
  const name = className(value);
  return base
    ? `an instance of ${name}, a subclass of ${base} (it would come back as a plain ${base})`
    : `an instance of ${name} (its prototype and anything not held in own enumerable properties would be lost; store a plain object instead)`;
}

/**
 * Walks a value before it is serialized: refuses what msgpackr would drop, change or fail on
 * (with the path to it), and notes what needs the slower paths: shared references or cycles
 * (structured-clone mode) and negative zero (escaping).
 *
 * @internal
 * @example
 * ```ts
 * const scanner = new ValueScanner();
 * scanner.visit(value, 0); // throws CacheCodecError for a function, a symbol, a class instance...
 * const slow = scanner.shared || scanner.negativeZero;
 * ```
 */
export class ValueScanner {
  negativeZero = false;
  shared = false;
  readonly #seen = new Set<object>();
  readonly #path: PathSegment[] = [];

  visit(value: unknown, depth: number): void {
    switch (typeof value) {
      case 'string':
        if (!isWellFormed(value)) {
          this.#fail(
            'string',
            'is a string with a lone UTF-16 surrogate (not valid Unicode, it cannot be stored as UTF-8 without changing)',
          );
        }
        return;
      case 'number':
        if (value === 0 && 1 / value < 0) this.negativeZero = true;
        return;
      case 'object':
        if (value !== null) this.#visitObject(value, depth);
        return;
      case 'function':
        this.#fail('function', `is a function${value.name ? ` (${value.name})` : ''}`);
        return;
      case 'symbol':
        this.#fail('symbol', `is a symbol (${String(value)})`);
        return;
      default:
        // boolean, bigint (any size) and undefined are all represented exactly.
        return;
    }
  }

  #visitObject(value: object, depth: number): void {
    const seen = this.#seen;
    const before = seen.size;
    // One hash lookup instead of has() then add(): the size only grows for an unseen object.
    if (seen.add(value).size === before) {
      this.shared = true;
      return;
    }
    if (depth >= MAX_DEPTH) {
      this.#fail('depth', `is nested deeper than ${MAX_DEPTH} levels`);
    }
    const proto = Object.getPrototypeOf(value) as object | null;
    // The two shapes nearly every cached value is made of first, before the table lookup.
    if (proto === Object.prototype) {
      this.#visitPlainObject(value as Record<string, unknown>, depth);
      return;
    }
    if (proto === Array.prototype) {
      this.#visitArray(value as unknown[], depth);
      return;
    }
    const kind = proto === null ? undefined : KINDS.get(proto);
    if (kind === undefined) {
      if (isPlainPrototype(proto)) this.#visitPlainObject(value as Record<string, unknown>, depth);
      else if (Array.isArray(value) && className(value) === 'Array') {
        this.#visitArray(value, depth); // an array of another realm (a vm context)
      } else this.#fail(className(value), `is ${describeObject(value)}`);
      return;
    }
    switch (kind) {
      case Kind.Array:
        this.#visitArray(value as unknown[], depth);
        return;
      case Kind.Map: {
        let index = 0;
        for (const [key, entry] of value as Map<unknown, unknown>) {
          this.#path.push({ label: `<Map key #${index}>` });
          this.visit(key, depth + 1);
          this.#path.pop();
          this.#path.push({ label: `<Map value #${index}>` });
          this.visit(entry, depth + 1);
          this.#path.pop();
          index++;
        }
        return;
      }
      case Kind.Set: {
        let index = 0;
        for (const item of value as Set<unknown>) {
          this.#path.push({ label: `<Set item #${index}>` });
          this.visit(item, depth + 1);
          this.#path.pop();
          index++;
        }
        return;
      }
      case Kind.Error:
        this.#visitError(value as Error, proto as object, depth);
        return;
      case Kind.RegExp:
        if (!isWellFormed((value as RegExp).source)) {
          this.#fail('RegExp', 'is a RegExp whose source holds a lone UTF-16 surrogate');
        }
        return;
      default:
        return;
    }
  }

  #visitPlainObject(value: Record<string, unknown>, depth: number): void {
    for (const key of Object.keys(value)) {
      if (key === '__proto__') {
        this.#fail(
          'object',
          'has an own property named "__proto__" (msgpackr renames it when decoding, to prevent prototype pollution)',
        );
      }
      if (!isWellFormed(key)) {
        this.#fail(
          'string',
          'has a property name with a lone UTF-16 surrogate (not valid Unicode)',
        );
      }
      const child = value[key];
      if (isSimpleLeaf(child)) {
        if (child === 0 && 1 / child < 0) this.negativeZero = true;
        continue;
      }
      this.#path.push(key);
      this.visit(child, depth + 1);
      this.#path.pop();
    }
  }

  #visitArray(value: unknown[], depth: number): void {
    for (let index = 0; index < value.length; index++) {
      const child = value[index];
      if (isSimpleLeaf(child)) {
        if (child === 0 && 1 / child < 0) this.negativeZero = true;
        continue;
      }
      this.#path.push(index);
      this.visit(child, depth + 1);
      this.#path.pop();
    }
  }

  #visitError(value: Error, proto: object, depth: number): void {
    const { name, message } = value;
    // msgpackr stores [name, message, cause] and picks the class back from the name.
    if (typeof name !== 'string' || typeof message !== 'string') {
      this.#fail('Error', 'is an Error whose name or message is not a string');
    }
    if ((ERROR_PROTOTYPE_BY_NAME.get(name) ?? Error.prototype) !== proto) {
      this.#fail(
        'Error',
        `is an Error of class ${(proto as { constructor: { name: string } }).constructor.name} named ${JSON.stringify(name)} (it would come back as another class)`,
      );
    }
    if (!isWellFormed(name) || !isWellFormed(message)) {
      this.#fail('string', 'is an Error whose name or message holds a lone UTF-16 surrogate');
    }
    this.#path.push('cause');
    this.visit(value.cause, depth + 1);
    this.#path.pop();
    if (typeof AggregateError === 'function' && value instanceof AggregateError) {
      this.#path.push('errors');
      this.visit(value.errors, depth + 1);
      this.#path.pop();
    }
  }

  #fail(type: string, what: string): never {
    const path = formatPath(this.#path);
    throw new CacheCodecError(`Cannot encode cache value: ${path} ${what}`, {
      reason: type === 'depth' ? 'too-deep' : 'unsupported-value',
      path,
      type,
    });
  }
}

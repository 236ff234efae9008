import { randomFillSync } from 'node:crypto';

// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` and `tracestate`
// headers, read strictly, and the ids of new traces and spans.

/**
 * The trace a unit of work belongs to and the span it runs in, as W3C Trace Context and
 * OpenTelemetry name them.
 *
 * @example
 * ```ts
 * const trace: TraceContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
 * ```
 */
export interface TraceContext {
  /** 32 lower-case hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lower-case hex digits, not all zero: the span this context runs in. */
  readonly spanId: string;
  /** The trace flags: bit 0 (`1`) is `sampled`, bit 1 (`2`) is `random` (Trace Context Level 2). */
  readonly traceFlags: number;
  /** The vendor entries of `tracestate`, as received (checked and trimmed); absent when none. */
  readonly traceState?: string | undefined;
}

/**
 * The header that carries the trace and the parent span.
 *
 * @example
 * ```ts
 * const parent = parseTraceparent(req.headers[TRACEPARENT_HEADER]);
 * ```
 */
export const TRACEPARENT_HEADER = 'traceparent';
/**
 * The header that carries vendor-specific trace data beside `traceparent`.
 *
 * @example
 * ```ts
 * const state = parseTracestate(req.headers[TRACESTATE_HEADER]);
 * ```
 */
export const TRACESTATE_HEADER = 'tracestate';

/** The flags this package knows and passes on: sampled and random. */
const KNOWN_FLAGS = 0x03;
const HEX_ID = /^[0-9a-f]+$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';
/** A `traceparent` of version 00 is exactly this long; a later version at least this long. */
const TRACEPARENT_LENGTH = 55;
/** Longer inbound headers are not read at all: the spec asks for 512 characters of `tracestate`. */
const MAX_TRACESTATE_INPUT = 8192;
const MAX_TRACESTATE_MEMBERS = 32;
const TRACESTATE_KEY =
  /^(?:[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13})$/;
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * Reads a `traceparent` header as W3C Trace Context defines it: `00-<trace-id>-<parent-id>-<flags>`
 * in lower-case hex, the trace id and parent id not all zero, version `ff` refused, version 00
 * exactly 55 characters; a later version is read by its first four fields (and must continue with
 * `-` after them). Returns `undefined` for anything else (a missing, repeated or malformed header),
 * in which case a new trace is started. Only the `sampled` and `random` flags are kept.
 *
 * @example
 * ```ts
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
 * // { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 }
 * parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01'); // undefined
 * ```
 */
export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string') return undefined;
  const text = trimOws(value);
  if (text.length < TRACEPARENT_LENGTH) return undefined;
  const version = text.slice(0, 2);
  if (!isHex(version, 2) || version === 'ff') return undefined;
  if (version === '00') {
    if (text.length !== TRACEPARENT_LENGTH) return undefined;
  } else if (text.length > TRACEPARENT_LENGTH && text[TRACEPARENT_LENGTH] !== '-') {
    return undefined;
  }
  if (text[2] !== '-' || text[35] !== '-' || text[52] !== '-') return undefined;
  const traceId = text.slice(3, 35);
  const spanId = text.slice(36, 52);
  const flags = text.slice(53, 55);
  if (!isHex(traceId, 32) || traceId === ZERO_TRACE) return undefined;
  if (!isHex(spanId, 16) || spanId === ZERO_SPAN) return undefined;
  if (!isHex(flags, 2)) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & KNOWN_FLAGS };
}

/**
 * Reads a `tracestate` header: comma-separated `key=value` members (empty ones skipped), at most
 * 32, keys and values as the spec allows, no key twice. Returns the members joined by `,`, or
 * `undefined` when the header is absent, empty or invalid (an invalid `tracestate` is dropped
 * whole; the `traceparent` beside it still counts).
 *
 * @example
 * ```ts
 * parseTracestate('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE'); // 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'
 * parseTracestate('Bad Key=1'); // undefined
 * ```
 */
export function parseTracestate(value: unknown): string | undefined {
  const text = Array.isArray(value) ? value.join(',') : value;
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_TRACESTATE_INPUT) {
    return undefined;
  }
  const members: string[] = [];
  const keys = new Set<string>();
  for (const part of text.split(',')) {
    const member = trimOws(part);
    if (member === '') continue;
    const equals = member.indexOf('=');
    if (equals <= 0) return undefined;
    const key = member.slice(0, equals);
    const val = member.slice(equals + 1);
    if (!TRACESTATE_KEY.test(key) || !TRACESTATE_VALUE.test(val) || keys.has(key)) {
      return undefined;
    }
    keys.add(key);
    members.push(member);
    if (members.length > MAX_TRACESTATE_MEMBERS) return undefined;
  }
  return members.length === 0 ? undefined : members.join(',');
}

/**
 * The `traceparent` header (version 00) naming `context`'s span as the parent.
 *
 * @example
 * ```ts
 * headers.traceparent = formatTraceparent(getTraceContext()!); // '00-4bf9…4736-00f0…02b7-01'
 * ```
 */
export function formatTraceparent(context: TraceContext): string {
  const flags = context.traceFlags & 0xff;
  return `00-${context.traceId}-${context.spanId}-${flags < 16 ? '0' : ''}${flags.toString(16)}`;
}

/** Ids made per fill of the random pool. */
const BATCH = 256;
/** 16 bytes of trace id then 8 of span id per slot; trace and span ids are drawn apart. */
let pool: Buffer | undefined;
let traceNext = BATCH;
let spanPool: Buffer | undefined;
let spanNext = BATCH;

/**
 * A new random trace id: 32 lower-case hex digits from the operating system's CSPRNG, never all
 * zero.
 *
 * @example
 * ```ts
 * newTraceId(); // '0af7651916cd43dd8448eb211c80319c'
 * ```
 */
export function newTraceId(): string {
  if (traceNext === BATCH) {
    pool ??= Buffer.allocUnsafe(BATCH * 16);
    randomFillSync(pool);
    traceNext = 0;
  }
  const at = traceNext++ * 16;
  const id = pool!.toString('hex', at, at + 16);
  return id === ZERO_TRACE ? newTraceId() : id;
}

/**
 * A new random span id: 16 lower-case hex digits, never all zero.
 *
 * @example
 * ```ts
 * newSpanId(); // 'b7ad6b7169203331'
 * ```
 */
export function newSpanId(): string {
  if (spanNext === BATCH) {
    spanPool ??= Buffer.allocUnsafe(BATCH * 8);
    randomFillSync(spanPool);
    spanNext = 0;
  }
  const at = spanNext++ * 8;
  const id = spanPool!.toString('hex', at, at + 8);
  return id === ZERO_SPAN ? newSpanId() : id;
}

function isHex(text: string, length: number): boolean {
  return text.length === length && HEX_ID.test(text);
}

/** Without the optional white space (spaces and tabs) HTTP allows around a value or a member. */
function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start++;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

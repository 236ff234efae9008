// What /info shows of the settings: plain values, with anything secret taken out. A key that names
// a secret hides its value whole; a URL keeps its scheme, host and path but loses its password
// (and any query, which may carry a token); functions and class instances show as their kind.

const SECRET_KEY =
  /pass(word)?|secret|token|api[-_]?key|hash[-_]?key|private|credential|auth|cookie|signing|encrypt/i;
const REDACTED = '[redacted]';

/** @internal A URL without its password and query; other strings unchanged. */
export function redactUrl(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  try {
    const url = new URL(value);
    if (url.password !== '') url.password = REDACTED;
    if (url.search !== '') url.search = '';
    return url.toString();
  } catch {
    // Not a URL after all: a scheme-like string could still carry a secret after '@'.
    return value.includes('@') ? REDACTED : value;
  }
}

/**
 * @internal A JSON-safe copy of `value` with secrets redacted: values under keys that name a
 * secret, passwords and queries of URLs; functions and class instances become their kind.
 */
export function redactSettings(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'string') return redactUrl(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'function') return '[function]';
  if (typeof value !== 'object' || depth > 6) return `[${typeof value}]`;
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redactSettings(v, depth + 1));
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== null && proto !== Object.prototype) {
    return `[${(value as object).constructor?.name ?? 'object'}]`;
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === undefined) continue;
    out[key] = SECRET_KEY.test(key) && v !== false ? REDACTED : redactSettings(v, depth + 1);
  }
  return out;
}

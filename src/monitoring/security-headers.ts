/**
 * The security headers of the monitoring router and of the framework adapters' middleware. Helmet's
 * defaults (helmet 8) are the reference: the same headers with the same values, so a service that
 * already trusts helmet's choices gets the same protection without the dependency.
 */

/**
 * Helmet's default Content-Security-Policy, for the host application's own responses.
 *
 * @example
 * ```ts
 * res.setHeader('content-security-policy', DEFAULT_CONTENT_SECURITY_POLICY);
 * ```
 */
export const DEFAULT_CONTENT_SECURITY_POLICY =
  "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';" +
  "frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';" +
  "script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests";

/**
 * The policy of the router's data responses (JSON, Prometheus text, SSE): nothing of them is ever
 * meant to be rendered as a page, so nothing may load or frame them.
 *
 * @example
 * ```ts
 * headers.set('content-security-policy', API_CONTENT_SECURITY_POLICY);
 * ```
 */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/**
 * The policy of the dashboard page and its assets: scripts, styles and data only from the same
 * origin, no inline script or style, no framing. Stricter than helmet's default (no `https:` styles,
 * no `'unsafe-inline'`), which the dashboard can afford because it ships every asset itself.
 *
 * @example
 * ```ts
 * headers.set('content-security-policy', DASHBOARD_CONTENT_SECURITY_POLICY);
 * ```
 */
export const DASHBOARD_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * The policy of a report rendered as HTML (`GET /reports/:name?format=html`): its styles are
 * inline and its charts inline SVG; it loads and runs nothing.
 *
 * @example
 * ```ts
 * response.headers.set('content-security-policy', REPORT_CONTENT_SECURITY_POLICY);
 * ```
 */
export const REPORT_CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Helmet's default headers other than the Content-Security-Policy, by lower-case name: what
 * `securityHeaders: 'helmet'` and the monitoring router's own responses set. Frozen.
 * `X-Powered-By` is not in the list: it is a header to remove, not to set.
 *
 * @example
 * ```ts
 * HELMET_SECURITY_HEADERS['x-frame-options']; // 'SAMEORIGIN'
 * ```
 */
export const HELMET_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'SAMEORIGIN',
  'x-permitted-cross-domain-policies': 'none',
  // Helmet turns the legacy XSS auditor off: it created vulnerabilities of its own.
  'x-xss-protection': '0',
});

/**
 * @deprecated Renamed {@link HELMET_SECURITY_HEADERS} (it is helmet's set, not a base of
 * {@link BASIC_SECURITY_HEADERS}).
 */
export const BASE_SECURITY_HEADERS: Readonly<Record<string, string>> = HELMET_SECURITY_HEADERS;

/**
 * What the adapters' middleware sets on every response of the host by default: only
 * `X-Content-Type-Options: nosniff`, which protects today's browsers on any response and changes
 * nothing a page relies on. Helmet's page-changing and legacy headers break hosts that did not ask
 * for them (`securityHeaders: 'helmet'` sets {@link HELMET_SECURITY_HEADERS}). Frozen.
 *
 * @example
 * ```ts
 * BASIC_SECURITY_HEADERS['x-content-type-options']; // 'nosniff'
 * ```
 */
export const BASIC_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
});

/**
 * Options of {@link securityHeaders}.
 *
 * @example
 * ```ts
 * securityHeaders({ contentSecurityPolicy: false, strictTransportSecurity: 'max-age=300' });
 * ```
 */
export interface SecurityHeadersOptions {
  /**
   * The Content-Security-Policy: a policy string, or `false` to leave the header out (a host that
   * sets its own). @defaultValue {@link DEFAULT_CONTENT_SECURITY_POLICY}
   */
  contentSecurityPolicy?: string | false;
  /**
   * `Strict-Transport-Security`: `false` leaves it out (a service only ever reached over plain
   * HTTP on a private network may prefer that). @defaultValue 'max-age=31536000; includeSubDomains'
   */
  strictTransportSecurity?: string | false;
  /** `X-Frame-Options`. @defaultValue 'SAMEORIGIN' */
  frameOptions?: 'SAMEORIGIN' | 'DENY' | false;
}

/**
 * The full set of security headers (helmet's defaults unless told otherwise), by lower-case name.
 * The adapters' middleware sets each one the host has not set itself; the router sets them on
 * every response it builds.
 *
 * @example
 * ```ts
 * for (const [name, value] of Object.entries(securityHeaders({ contentSecurityPolicy: false }))) {
 *   if (!res.hasHeader(name)) res.setHeader(name, value);
 * }
 * ```
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): Record<string, string> {
  const headers: Record<string, string> = { ...HELMET_SECURITY_HEADERS };
  const csp = options.contentSecurityPolicy ?? DEFAULT_CONTENT_SECURITY_POLICY;
  if (csp !== false) headers['content-security-policy'] = csp;
  const hsts = options.strictTransportSecurity;
  if (hsts === false) delete headers['strict-transport-security'];
  else if (hsts !== undefined) headers['strict-transport-security'] = hsts;
  const frame = options.frameOptions;
  if (frame === false) delete headers['x-frame-options'];
  else if (frame !== undefined) headers['x-frame-options'] = frame;
  return headers;
}

/**
 * Sets every header of `set` that `headers` does not hold yet, so a value the application chose
 * wins over the default. Returns `headers`.
 *
 * @example
 * ```ts
 * applySecurityHeaders(response.headers, securityHeaders());
 * ```
 */
export function applySecurityHeaders(
  headers: Headers,
  set: Readonly<Record<string, string>> = securityHeaders(),
): Headers {
  for (const name in set) {
    if (!headers.has(name)) headers.set(name, set[name]!);
  }
  return headers;
}

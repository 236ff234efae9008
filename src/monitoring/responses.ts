/** The `content-type` of every JSON answer of the router. */
export const JSON_TYPE = 'application/json; charset=utf-8';
/** The `content-type` of the Prometheus text exposition format 0.0.4. */
export const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** @internal A JSON answer of the router; monitoring figures are never cached. */
export function jsonResponse(
  body: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...headers },
  });
}

import type { Context } from 'hono';

/** @internal A file served by the router's pages (dashboard, `/docs`). */
export interface StaticAsset {
  readonly body: string | Uint8Array;
  readonly contentType: string;
  readonly etag: string;
}

/**
 * @internal A page or asset with its caching headers; `If-None-Match` answers 304. The page is
 * revalidated on every load; the assets it links carry `?v=<etag>`, so they may be cached for a
 * year without ever being stale.
 */
export function staticAssetResponse(c: Context, asset: StaticAsset, page: boolean): Response {
  const etag = `"${asset.etag}"`;
  const cacheControl = page ? 'no-cache' : 'public, max-age=31536000, immutable';
  const headers = { etag, 'cache-control': cacheControl };
  const match = c.req.header('if-none-match');
  const matches = match?.split(',').some((tag) => [etag, `W/${etag}`].includes(tag.trim()));
  if (matches === true) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(asset.body, {
    headers: { 'content-type': asset.contentType, ...headers },
  });
}

/**
 * @internal The page at `<mount>/<name>` links its assets relative to itself: `<mount>/<name>/` is
 * sent there, so those links resolve the same.
 */
export function trailingSlashRedirect(c: Context, name: string): Response | undefined {
  if (!new URL(c.req.url).pathname.endsWith('/')) return undefined;
  return new Response(null, { status: 308, headers: { location: `../${name}` } });
}

import type { Context } from 'hono';
import { getDashboardAsset } from '../dashboard/assets.js';
import { MonitoringRequestError } from '../errors.js';
import type { Handlers } from './types.js';

/** @internal The dashboard page and its assets. */
export function dashboardHandlers(): Handlers<'dashboard' | 'dashboardAsset'> {
  return {
    dashboard: (c) =>
      // The page's links are relative to `<mount>/dashboard`: send `<mount>/dashboard/` there.
      new URL(c.req.url).pathname.endsWith('/')
        ? new Response(null, { status: 308, headers: { location: '../dashboard' } })
        : serveAsset(c, ''),
    dashboardAsset: (c) => serveAsset(c, c.req.param('file') ?? ''),
  };
}

/** A dashboard file with its caching headers; `If-None-Match` answers 304. */
function serveAsset(c: Context, file: string): Response {
  const asset = getDashboardAsset(file);
  if (asset === undefined) {
    throw new MonitoringRequestError(404, 'E_NOT_FOUND', `no dashboard file is named "${file}"`);
  }
  const etag = `"${asset.etag}"`;
  // The page is revalidated on every load; the assets it links carry `?v=<etag>`, so they may be
  // cached for a year without ever being stale.
  const cacheControl = file === '' ? 'no-cache' : 'public, max-age=31536000, immutable';
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

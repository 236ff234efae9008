import type { Context } from 'hono';
import { getDashboardAsset } from '../dashboard/assets.js';
import { MonitoringRequestError } from '../errors.js';
import { staticAssetResponse, trailingSlashRedirect } from './static-asset.js';
import type { Handlers } from './types.js';

/** @internal The dashboard page and its assets. */
export function dashboardHandlers(): Handlers<'dashboard' | 'dashboardAsset'> {
  return {
    dashboard: (c) => trailingSlashRedirect(c, 'dashboard') ?? serveAsset(c, ''),
    dashboardAsset: (c) => serveAsset(c, c.req.param('file') ?? ''),
  };
}

function serveAsset(c: Context, file: string): Response {
  const asset = getDashboardAsset(file);
  if (asset === undefined) {
    throw new MonitoringRequestError(404, 'E_NOT_FOUND', `no dashboard file is named "${file}"`);
  }
  return staticAssetResponse(c, asset, file === '');
}

import type { Context } from 'hono';
import { loadDocsAssets } from '../docs/assets.js';
import { MonitoringRequestError } from '../errors.js';
import { staticAssetResponse, trailingSlashRedirect } from './static-asset.js';
import type { HandlerContext, Handlers } from './types.js';

/** @internal The `/docs` page (Swagger UI on the router's OpenAPI document) and its assets. */
export function docsHandlers({ log }: HandlerContext): Handlers<'docs' | 'docsAsset'> {
  const serve = async (c: Context, file: string): Promise<Response> => {
    let assets: Awaited<ReturnType<typeof loadDocsAssets>>;
    try {
      assets = await loadDocsAssets();
    } catch (error) {
      log.error({ err: error }, 'the /docs page files could not be read');
      throw new MonitoringRequestError(
        503,
        'E_UNAVAILABLE',
        'the API documentation page is missing from this installation',
      );
    }
    const asset = assets.get(file);
    if (asset === undefined) {
      throw new MonitoringRequestError(404, 'E_NOT_FOUND', `no docs file is named "${file}"`);
    }
    return staticAssetResponse(c, asset, file === '');
  };
  return {
    docs: (c) => trailingSlashRedirect(c, 'docs') ?? serve(c, ''),
    docsAsset: (c) => serve(c, c.req.param('file') ?? ''),
  };
}

import { EMBEDDED_ASSETS } from './assets.generated.js';

/** One file of the dashboard, ready to be sent. */
export interface DashboardAsset {
  /** The file's content. */
  body: string | Uint8Array;
  /** The `content-type` header value, with charset for text. */
  contentType: string;
  /**
   * A hash of the body, usable as a strong `etag`. The page links every asset with `?v=<etag>`,
   * so assets may be cached for long (`immutable`) while the page itself is revalidated.
   */
  etag: string;
}

/**
 * Returns a file of the monitoring dashboard, or `undefined` for a name that is not one. `''` is
 * the page (served at `<mount>/dashboard`); the others are the names under
 * `<mount>/dashboard/assets/`: `app.js`, `app.css`, `uplot.js`, `uplot.css`. The files are embedded
 * in the package (no filesystem access, works offline) and run under a strict CSP: no inline
 * script or style, no external request.
 *
 * @example
 * ```ts
 * const asset = getDashboardAsset('app.js');
 * if (asset) return new Response(asset.body, { headers: { 'content-type': asset.contentType } });
 * ```
 */
export function getDashboardAsset(file: string): DashboardAsset | undefined {
  // An own-property check: a name like `__proto__` or `constructor` is not a file.
  if (!Object.hasOwn(EMBEDDED_ASSETS, file)) return undefined;
  const asset = EMBEDDED_ASSETS[file]!;
  return { body: asset.body, contentType: asset.contentType, etag: asset.etag };
}

/**
 * The names `getDashboardAsset` knows, page (`''`) included.
 *
 * @example
 * ```ts
 * dashboardAssetNames(); // ['', 'app.js', 'app.css', 'uplot.js', 'uplot.css']
 * ```
 */
export function dashboardAssetNames(): string[] {
  return Object.keys(EMBEDDED_ASSETS);
}

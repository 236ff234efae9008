/** Types of scripts/build-dashboard.mjs, for tests/dashboard/assets.test.ts. */
export interface BuiltAsset {
  body: string;
  contentType: string;
  etag: string;
}

/** The dashboard's assets computed from their sources; '' is the page. */
export function buildDashboardAssets(): {
  assets: Record<string, BuiltAsset>;
  uplotVersion: string;
};

/** Absolute path of the generated module. */
export const GENERATED_FILE: string;

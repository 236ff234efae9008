import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeDocsFiles, DOCS_FILES, DOCS_PAGE_DIR } from './files.js';

/** @internal One file of the `/docs` page, ready to be sent. */
export interface DocsAsset {
  readonly body: string;
  readonly contentType: string;
  /** A hash of the body; the page links each asset with `?v=<etag>`. */
  readonly etag: string;
}

let loading: Promise<ReadonlyMap<string, DocsAsset>> | undefined;

/**
 * @internal The `/docs` page's files by served name ('' is the page), read on the first call and
 * kept: Swagger UI weighs megabytes, so nothing is read before someone opens the page. Rejects when
 * the files cannot be found; a later call tries again.
 */
export function loadDocsAssets(): Promise<ReadonlyMap<string, DocsAsset>> {
  loading ??= readDocsFiles()
    .then(withHashes)
    .catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
  return loading;
}

async function readDocsFiles(): Promise<Record<string, string>> {
  const here = dirname(fileURLToPath(import.meta.url));
  // Running from the TypeScript sources (tests, tsx): compose the files as the build does.
  if (import.meta.url.endsWith('.ts')) {
    const swagger = createRequire(import.meta.url).resolve('swagger-ui-dist/package.json');
    return composeDocsFiles(here, dirname(swagger));
  }
  // From dist, in ESM or CJS, from an entry file or a chunk: the build put the files in
  // dist/docs-page, one or two folders up.
  let directory = here;
  for (let depth = 0; depth < 4; depth++) {
    const candidate = join(directory, DOCS_PAGE_DIR);
    if (existsSync(join(candidate, DOCS_FILES['']!.file))) {
      const files: Record<string, string> = {};
      for (const [name, { file }] of Object.entries(DOCS_FILES)) {
        files[name] = await readFile(join(candidate, file), 'utf8');
      }
      return files;
    }
    directory = dirname(directory);
  }
  throw new Error(`the /docs page's files are not in a ${DOCS_PAGE_DIR} folder above ${here}`);
}

const hashOf = (body: string) => createHash('sha256').update(body).digest('base64url').slice(0, 16);

/** Hashes every file and links the assets from the page with `?v=<hash>` (as the dashboard does). */
function withHashes(files: Record<string, string>): ReadonlyMap<string, DocsAsset> {
  const assets = new Map<string, DocsAsset>();
  let page = files['']!;
  for (const [name, body] of Object.entries(files)) {
    if (name === '') continue;
    const etag = hashOf(body);
    assets.set(name, { body, contentType: DOCS_FILES[name]!.contentType, etag });
    page = page.replace(`"docs/assets/${name}"`, `"docs/assets/${name}?v=${etag}"`);
  }
  assets.set('', { body: page, contentType: DOCS_FILES['']!.contentType, etag: hashOf(page) });
  return assets;
}

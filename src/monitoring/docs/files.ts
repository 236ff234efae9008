// The files of the `/docs` page, composed from this directory (page.html, docs.js, docs.css) and
// swagger-ui-dist's prebuilt browser bundle. The build writes them next to dist (DOCS_PAGE_DIR) so
// the package ships them and never depends on swagger-ui-dist; a source checkout composes them in
// memory from node_modules, the same way.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** @internal The folder under dist the built package keeps the page's files in. */
export const DOCS_PAGE_DIR = 'docs-page';

/** @internal The page's served files by name ('' is the page) with their content type and file. */
export const DOCS_FILES: Readonly<Record<string, { file: string; contentType: string }>> = {
  '': { file: 'page.html', contentType: 'text/html; charset=utf-8' },
  'docs.js': { file: 'docs.js', contentType: 'text/javascript; charset=utf-8' },
  'docs.css': { file: 'docs.css', contentType: 'text/css; charset=utf-8' },
  'swagger-ui-bundle.js': {
    file: 'swagger-ui-bundle.js',
    contentType: 'text/javascript; charset=utf-8',
  },
  'swagger-ui.css': { file: 'swagger-ui.css', contentType: 'text/css; charset=utf-8' },
  // The bundle's first line points at this file for the licences of what it bundles.
  'swagger-ui-bundle.js.LICENSE.txt': {
    file: 'swagger-ui-bundle.js.LICENSE.txt',
    contentType: 'text/plain; charset=utf-8',
  },
  'swagger-ui.LICENSE.txt': {
    file: 'swagger-ui.LICENSE.txt',
    contentType: 'text/plain; charset=utf-8',
  },
};

// A source map the browser would ask for when its developer tools open: not shipped, not linked.
const SOURCE_MAP = /\n?\/[*/]# sourceMappingURL=[^\n]*\s*$/;

/**
 * @internal The page's files by served name, composed from `sourceDir` (this directory) and
 * `swaggerDir` (swagger-ui-dist's folder). Swagger UI is Apache-2.0: its licence and NOTICE are
 * served beside it, and both of its files start with a notice naming them.
 */
export function composeDocsFiles(sourceDir: string, swaggerDir: string): Record<string, string> {
  const swagger = (name: string) => readFileSync(join(swaggerDir, name), 'utf8');
  const { version } = JSON.parse(swagger('package.json')) as { version: string };
  const notice = swagger('NOTICE').trim();
  const banner =
    `/*! Swagger UI ${version} (swagger-ui-dist), Apache License 2.0: see swagger-ui.LICENSE.txt.\n` +
    `${notice.replace(/\*\//g, '* /')} */\n`;
  const own = (name: string) => readFileSync(join(sourceDir, name), 'utf8');
  return {
    '': own('page.html'),
    'docs.js': own('docs.js'),
    'docs.css': own('docs.css'),
    'swagger-ui-bundle.js': banner + swagger('swagger-ui-bundle.js').replace(SOURCE_MAP, '\n'),
    'swagger-ui.css': banner + swagger('swagger-ui.css').replace(SOURCE_MAP, '\n'),
    'swagger-ui-bundle.js.LICENSE.txt': swagger('swagger-ui-bundle.js.LICENSE.txt'),
    'swagger-ui.LICENSE.txt': `${notice}\n\n${swagger('LICENSE')}`,
  };
}

/**
 * @internal Writes the composed files into `outDir` (the build's `dist/docs-page`), each under its
 * `DOCS_FILES` file name.
 */
export function writeDocsFiles(sourceDir: string, swaggerDir: string, outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  for (const [name, body] of Object.entries(composeDocsFiles(sourceDir, swaggerDir))) {
    writeFileSync(join(outDir, DOCS_FILES[name]!.file), body);
  }
}

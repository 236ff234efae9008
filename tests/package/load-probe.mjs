// Loads one built entry in this fresh process and prints, as JSON, the source files of the
// package (through the chunks' source maps) and the third-party packages that got loaded.
// Usage: node load-probe.mjs <entry file> <esm|cjs> <the build's directory>
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [entry, mode, build] = process.argv.slice(2);
const root = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'load-probe-'));
const log = join(scratch, 'loaded.txt');
const require = createRequire(import.meta.url);

const files = new Set();
if (mode === 'esm') {
  register('./load-hooks.mjs', import.meta.url, { data: { log } });
  await import(pathToFileURL(resolve(entry)).href);
  for (const url of readFileSync(log, 'utf8').split('\n')) {
    if (url.startsWith('file:')) files.add(fileURLToPath(url));
  }
} else {
  require(resolve(entry));
}
// CommonJS modules, whether required or imported, are in the require cache.
for (const file of Object.keys(require.cache)) files.add(file);
rmSync(scratch, { recursive: true, force: true });

const distDir = resolve(build);
// Loaders report real paths: a build under a symlinked node_modules (a git worktree sharing
// another's) is mapped back to the path it was built at, where its source maps point from.
const realDist = realpathSync(distDir);
const sources = new Set();
const packages = new Set();
for (const loaded of files) {
  const file = loaded.startsWith(realDist) ? distDir + loaded.slice(realDist.length) : loaded;
  const match = /[/\\]node_modules[/\\]((?:@[^/\\]+[/\\])?[^/\\]+)/.exec(file);
  if (match !== null && !file.startsWith(distDir)) {
    packages.add(match[1].replace(/\\/g, '/'));
    continue;
  }
  if (!file.startsWith(distDir)) continue;
  const map = JSON.parse(readFileSync(`${file}.map`, 'utf8'));
  for (const source of map.sources) {
    sources.add(relative(root, resolve(dirname(file), source)).replace(/\\/g, '/'));
  }
}
process.stdout.write(
  JSON.stringify({ sources: [...sources].sort(), packages: [...packages].sort() }),
);

import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'performance/index': 'src/performance/index.ts',
    'cache/index': 'src/cache/index.ts',
  },
  format: ['esm', 'cjs'],
  // Members marked @internal are the package's own plumbing: keep them out of the public types.
  dts: { compilerOptions: { stripInternal: true } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  // Gives the CJS build an `import.meta.url`, used to resolve optional peers relative to the package.
  shims: true,
  splitting: true,
  treeshake: true,
});

import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'performance/index': 'src/performance/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  // Gives the CJS build an `import.meta.url`, used to resolve optional peers relative to the package.
  shims: true,
  splitting: true,
  treeshake: true,
});

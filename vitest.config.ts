import { defineConfig } from 'vitest/config';

/**
 * Two projects compile the same package under both TypeScript decorator modes:
 * - `standard`: TC39 decorators (the TypeScript 5 default), for everything but tests/legacy;
 * - `legacy`: `experimentalDecorators`, as NestJS projects compile.
 */
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'standard',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/legacy/**'],
          // A throw-away Redis Cluster for the Cluster suites, unless TEST_REDIS_CLUSTER_NODES is set.
          globalSetup: ['tests/support/redis-cluster-setup.ts'],
        },
        esbuild: {
          target: 'es2022',
          tsconfigRaw: { compilerOptions: { experimentalDecorators: false } },
        },
      },
      {
        extends: true,
        test: { name: 'legacy', include: ['tests/legacy/**/*.test.ts'] },
        esbuild: {
          target: 'es2022',
          // esbuild cannot emit decorator metadata; tests/legacy/tsc-compiled tests cover it with tsc.
          tsconfigRaw: { compilerOptions: { experimentalDecorators: true } },
        },
      },
    ],
    // Most suites wait on Redis, PostgreSQL, child processes and timers rather than compute: two
    // files at a time on a 2-core machine halves the run (the default is half the cores).
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ['default'],
  },
});

/**
 * The test functions a conformance suite registers its tests with: vitest's (pass the module,
 * `import * as vitest from 'vitest'`), or any runner with the same `describe`, `it`, `expect` (Jest's
 * matchers), `beforeEach` and `afterEach`. The suites take them as an argument rather than importing
 * a runner, so this entry loads in any module system and pins no runner version.
 *
 * @example
 * ```ts
 * import * as vitest from 'vitest';
 * import { describeTaskBackend } from '@revcopy/enterprise/testing';
 *
 * describeTaskBackend('my backend', vitest, async () => ({ backend, queue, cleanup }));
 * ```
 */
export interface TestApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => unknown, timeout?: number): void;
  /** Jest-compatible `expect` (`toBe`, `toEqual`, `toMatchObject`, `rejects`, `objectContaining`...). */
  expect: any;
  beforeEach(body: () => unknown): void;
  afterEach(body: () => unknown): void;
}

import { expect } from 'vitest';
import type { TestApi } from '../../src/testing/index.js';

/** One test of a conformance suite, registered with {@link collectTests}. */
export interface CollectedTest {
  name: string;
  /** Runs the test between the suite's `beforeEach` and `afterEach` hooks. */
  run(): Promise<void>;
}

/**
 * Registers a conformance suite's tests with a stand-in runner and hands them back, to run one by
 * one: the tests that check the suite itself (it registers its tests without importing a runner,
 * and fails a broken implementation on the tests about what it breaks).
 *
 * @example
 * ```ts
 * const tests = collectTests(describeBanStore, { create: () => ({ store, cleanup() {} }) });
 * ```
 */
export function collectTests<H>(
  describeSuite: (name: string, api: TestApi, harness: H) => void,
  harness: H,
): CollectedTest[] {
  const tests: CollectedTest[] = [];
  const beforeEach: (() => unknown)[] = [];
  const afterEach: (() => unknown)[] = [];
  const api: TestApi = {
    describe: (_name, body) => body(),
    it: (name, body) => {
      tests.push({
        name,
        async run() {
          for (const hook of beforeEach) await hook();
          try {
            await body();
          } finally {
            for (const hook of afterEach) await hook();
          }
        },
      });
    },
    expect,
    beforeEach: (body) => beforeEach.push(body),
    afterEach: (body) => afterEach.push(body),
  };
  describeSuite('under test', api, harness);
  return tests;
}

/** The names of the suite's tests that fail against `harness`, run one after the other. */
export async function failingTests<H>(
  describeSuite: (name: string, api: TestApi, harness: H) => void,
  harness: H,
): Promise<string[]> {
  const failed: string[] = [];
  for (const test of collectTests(describeSuite, harness)) {
    await test.run().catch(() => failed.push(test.name));
  }
  return failed;
}

/**
 * Runs a suite against each broken implementation, side by side (each sleeps through the suite's
 * timed tests): the tests that failed and those that should have, by label, to compare whole.
 *
 * @example
 * ```ts
 * const { failed, expected } = await brokenFailures(BROKEN, failures);
 * expect(failed).toEqual(expected);
 * ```
 */
export async function brokenFailures<M>(
  broken: Record<string, { make: M; fails: string[] }>,
  failures: (make: M) => Promise<string[]>,
): Promise<{ failed: Record<string, string[]>; expected: Record<string, string[]> }> {
  const entries = Object.entries(broken);
  const results = await Promise.all(
    entries.map(async ([label, { make }]) => [label, await failures(make)] as const),
  );
  return {
    failed: Object.fromEntries(results),
    expected: Object.fromEntries(entries.map(([label, { fails }]) => [label, fails])),
  };
}

import { adminTests } from './task-backend/admin.js';
import { claimsTests } from './task-backend/claims.js';
import {
  BackendSuite,
  type TaskBackendHarness,
  type TaskBackendHarnessOptions,
} from './task-backend/context.js';
import { dependenciesTests } from './task-backend/dependencies.js';
import { groupsTests } from './task-backend/groups.js';
import { lifecycleTests } from './task-backend/lifecycle.js';
import { outcomesTests } from './task-backend/outcomes.js';
import type { TestApi } from './test-api.js';

export type { TaskBackendHarness, TaskBackendHarnessOptions } from './task-backend/context.js';

/**
 * The contract every `TaskBackend` passes: adding, claiming in order, leases and what an attempt
 * costs, outcomes, dependencies, cancellation, counts, the dead letter queue, pause, workers,
 * schedule markers, retention, events, waiting for work and closing. Real time with short
 * durations; each test gets a fresh harness (a unique queue name, and for shared stores a unique
 * key prefix). The package's memory and Redis backends run it.
 *
 * @param api - the runner's test functions (see {@link TestApi}).
 * @param create - builds the backend under test; it must honour `retention` when given.
 * @example
 * ```ts
 * import * as vitest from 'vitest';
 * import { memoryTaskBackend } from '@revcopy/enterprise/tasks';
 * import { describeTaskBackend } from '@revcopy/enterprise/testing';
 *
 * describeTaskBackend('memory', vitest, async ({ retention } = {}) => {
 *   const backend = memoryTaskBackend({ retention });
 *   return { backend, queue: 'q', cleanup: () => backend.close() };
 * });
 * ```
 */
export function describeTaskBackend(
  name: string,
  api: TestApi,
  create: (options?: TaskBackendHarnessOptions) => Promise<TaskBackendHarness>,
): void {
  api.describe(`TaskBackend conformance: ${name}`, () => {
    const suite = new BackendSuite(api, create);
    api.beforeEach(() => suite.use());
    api.afterEach(() => suite.cleanup());
    claimsTests(suite);
    outcomesTests(suite);
    dependenciesTests(suite);
    adminTests(suite);
    lifecycleTests(suite);
    groupsTests(suite);
  });
}

import { afterEach } from 'vitest';
import { createEnterprise, type Enterprise, type TaskOptions } from '../../src/index.js';
import type { TaskBackend } from '../../src/tasks/index.js';
import type { ClaimedTask, TaskBackendEvent } from '../../src/tasks/types.js';

/**
 * What the worker-pool test files share: instances shut down after each test, a backend whose
 * `claim` a test replaces, and a poll for a condition.
 */

const instances: Enterprise[] = [];

/** Shuts down every instance {@link make} created, after each test of the calling file. */
export function shutDownAfterEach(): void {
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((e) => e.shutdown()));
  });
}

/** A silent instance on `backend`, shut down after the test. */
export function make(backend: TaskBackend, tasks: TaskOptions = {}): Enterprise {
  const enterprise = createEnterprise({
    logLevel: 'silent',
    env: {},
    performance: { systemMetrics: false },
    tasks: { backend, ...tasks },
  });
  instances.push(enterprise);
  return enterprise;
}

/** `inner` with `claim` replaced (every other method delegated). */
export function withClaim(
  inner: TaskBackend,
  claim: (...args: Parameters<TaskBackend['claim']>) => Promise<ClaimedTask[]>,
): TaskBackend {
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'claim') return claim;
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** `inner` whose subscribers never hear the events of `types` (lost, as when a subscription is down). */
export function deafTo(
  inner: TaskBackend,
  types: readonly TaskBackendEvent['type'][],
): TaskBackend {
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'subscribe') {
        return (listener: Parameters<TaskBackend['subscribe']>[0]) =>
          target.subscribe((event) => {
            if (!types.includes(event.type)) listener(event);
          });
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export { eventually } from '../support/eventually.js';

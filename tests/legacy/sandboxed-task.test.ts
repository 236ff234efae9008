import { afterEach, describe, expect, it } from 'vitest';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import { BackgroundTask, unregisterTask } from '../../src/tasks/index.js';

// The standard-decorator twin is in tests/tasks/sandbox/registration.test.ts.
const instances: Enterprise[] = [];

afterEach(async () => {
  await Promise.all(instances.splice(0).map((e) => e.shutdown()));
  unregisterTask('sbx_legacy');
});

describe('@BackgroundTask with a sandbox under experimentalDecorators', () => {
  it('runs the file without registerTaskHandlers; the method stays an ordinary method', async () => {
    class Images {
      @BackgroundTask('sbx_legacy', {
        sandbox: new URL('../fixtures/sandbox/ok.mjs', import.meta.url),
      })
      resize(payload: { n: number }) {
        return { inline: payload.n };
      }
    }
    const e = createEnterprise({
      logLevel: 'silent',
      env: {},
      performance: { systemMetrics: false },
    });
    instances.push(e);
    await e.start();
    const id = await e.tasks.submit('sbx_legacy', { n: 6 });
    const result = (await e.tasks.waitFor(id, { timeout: 20 })).result as { threadId: number };
    expect(result).toMatchObject({ doubled: 12 });
    expect(result.threadId).toBeGreaterThan(0);
    expect(new Images().resize({ n: 6 })).toEqual({ inline: 6 });
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { createEnterprise, type Enterprise } from '../../src/index.js';
import { TaskUnknownError } from '../../src/tasks/errors.js';

const instances: Enterprise[] = [];
afterEach(async () => {
  await Promise.all(instances.splice(0).map((e) => e.shutdown()));
});

function make(): Enterprise {
  const enterprise = createEnterprise({
    logLevel: 'silent',
    env: {},
    performance: { systemMetrics: false },
    tasks: { backend: 'memory' },
  });
  instances.push(enterprise);
  return enterprise;
}

describe('strictNames in a process that only submits', () => {
  it('accepts any task name while the application registered no handler, alerts running or not', async () => {
    const web = make();
    await web.start({ workers: false });
    // The alerts module registers its delivery task in every started instance: not the app's.
    expect(web.alerts).toBeDefined();
    await expect(
      web.tasks.submit('send_confirmation' as never, { orderId: 1 } as never),
    ).resolves.toEqual(expect.any(String));
  });

  it('refuses an unknown name once the application registered a handler of its own', async () => {
    const worker = make();
    worker.tasks.register('resize_image', () => undefined);
    await worker.start({ workers: false });
    await expect(worker.tasks.submit('resize_imgae' as never, {} as never)).rejects.toBeInstanceOf(
      TaskUnknownError,
    );
  });
});

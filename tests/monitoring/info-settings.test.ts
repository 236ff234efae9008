import { describe, expect, it } from 'vitest';
import { createMonitoringRouter } from '../../src/monitoring/index.js';
import { redactSettings } from '../../src/monitoring/redact.js';
import { AUTH, call, conforms, json, TOKEN, testEnterprise } from './helpers.js';

describe('/info settings', () => {
  it('shows the resolved settings with the Redis password and query redacted', async () => {
    const enterprise = testEnterprise({
      redisUrl: 'redis://app:hunter2@redis.internal:6380/2?token=abc',
      env: { CACHE_DEFAULT_TTL: '120' },
    });
    const router = createMonitoringRouter({ enterprise, auth: TOKEN });
    const response = await call(router, '/info', { headers: AUTH });
    const body = await json(response);
    // biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is plain JSON
    const doc: any = await json(await call(router, '/openapi.json', { headers: AUTH }));
    const schema = doc.paths['/info'].get.responses['200'].content['application/json'].schema;
    expect(conforms(doc, body, schema)).toEqual([]);
    const text = JSON.stringify(body);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('token=abc');
    expect(body.settings.redisUrl).toBe('redis://app:%5Bredacted%5D@redis.internal:6380/2');
    expect(body.settings.cache).toEqual({ defaultTtlMs: 120_000, maxSize: expect.any(Number) });
    expect(body.settings.tasks).toMatchObject({ queueName: expect.any(String) });
    expect(body.settings.clock).toBeUndefined();
    await enterprise.shutdown();
  });

  it('redacts values under keys that name a secret, and shows objects of classes by kind', () => {
    class Pool {}
    expect(
      redactSettings({
        password: 'p',
        apiKey: 'k',
        hashKey: 'h',
        auth: { token: 't' },
        encryption: false,
        url: 'postgres://u:pw@db/x',
        plain: 'https://example.com/path',
        pool: new Pool(),
        hook: () => 1,
        nested: [{ secret: 's', size: 3 }],
      }),
    ).toEqual({
      password: '[redacted]',
      apiKey: '[redacted]',
      hashKey: '[redacted]',
      auth: '[redacted]',
      encryption: false,
      url: 'postgres://u:%5Bredacted%5D@db/x',
      plain: 'https://example.com/path',
      pool: '[Pool]',
      hook: '[function]',
      nested: [{ secret: '[redacted]', size: 3 }],
    });
  });
});

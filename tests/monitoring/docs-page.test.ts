import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Enterprise } from '../../src/index.js';
import { createMonitoringRouter, type MonitoringRouter } from '../../src/monitoring/index.js';
import { DASHBOARD_CONTENT_SECURITY_POLICY } from '../../src/monitoring/security-headers.js';
import { closeServer, json, listen, TOKEN, testEnterprise } from './helpers.js';

/** `/docs` over real HTTP, from a router mounted at /ops with auth. */
describe('/docs', () => {
  let enterprise: Enterprise;
  let router: MonitoringRouter;
  let server: Awaited<ReturnType<typeof listen>>['server'];
  let base: string;
  beforeAll(async () => {
    enterprise = testEnterprise({ alerts: false, performance: { systemMetrics: false } });
    router = createMonitoringRouter({ enterprise, auth: TOKEN, basePath: '/ops' });
    const listening = await listen(router);
    server = listening.server;
    base = `${listening.url}/ops`;
  });
  afterAll(async () => {
    await closeServer(server);
    await router.close();
    await enterprise.shutdown();
  });

  /** The page's asset links by file name (`docs/assets/<file>?v=<hash>`). */
  async function links(): Promise<Map<string, string>> {
    const page = await (await fetch(`${base}/docs`)).text();
    return new Map(
      [...page.matchAll(/"(docs\/assets\/([^"?]+)\?v=[\w-]+)"/g)].map((m) => [m[2]!, m[1]!]),
    );
  }

  it('serves the page under the dashboard CSP, revalidated, with no inline script or style', async () => {
    const response = await fetch(`${base}/docs`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(DASHBOARD_CONTENT_SECURITY_POLICY);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('etag')).toMatch(/^"[\w-]{16}"$/);
    const page = await response.text();
    // Every script is a file of the page's own; nothing names another origin.
    expect(page.match(/<script[^>]*>/g)).toEqual([
      expect.stringMatching(/^<script src="docs\/assets\/swagger-ui-bundle\.js\?v=[\w-]+">$/),
      expect.stringMatching(/^<script src="docs\/assets\/docs\.js\?v=[\w-]+">$/),
    ]);
    expect(page).not.toMatch(/<script>|<style|style="|https?:\/\//);
  });

  it('serves the assets for a year (immutable) and answers 304 to If-None-Match', async () => {
    const assets = await links();
    expect([...assets.keys()].sort()).toEqual([
      'docs.css',
      'docs.js',
      'swagger-ui-bundle.js',
      'swagger-ui.css',
    ]);
    for (const [file, link] of assets) {
      const response = await fetch(`${base}/${link}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('content-security-policy')).toBe(
        DASHBOARD_CONTENT_SECURITY_POLICY,
      );
      const etag = response.headers.get('etag')!;
      expect(link).toContain(`?v=${etag.slice(1, -1)}`);
      await response.arrayBuffer();
      const again = await fetch(`${base}/${link}`, { headers: { 'if-none-match': etag } });
      expect(again.status, file).toBe(304);
      expect(await again.text()).toBe('');
    }
    const page = await fetch(`${base}/docs`);
    const etag = page.headers.get('etag')!;
    await page.arrayBuffer();
    expect(
      (await fetch(`${base}/docs`, { headers: { 'if-none-match': `W/${etag}` } })).status,
    ).toBe(304);
  });

  it("ships Swagger UI's bundle as installed, with its licence, and disables the validator", async () => {
    const swaggerDir = createRequire(import.meta.url)
      .resolve('swagger-ui-dist/package.json')
      .replace(/package\.json$/, '');
    const assets = await links();
    const bundle = await (await fetch(`${base}/${assets.get('swagger-ui-bundle.js')}`)).text();
    expect(bundle).toMatch(
      /^\/\*! Swagger UI 5\.\d+\.\d+ \(swagger-ui-dist\), Apache License 2\.0/,
    );
    expect(bundle).toContain(readFileSync(`${swaggerDir}swagger-ui-bundle.js`, 'utf8').trim());
    const css = await (await fetch(`${base}/${assets.get('swagger-ui.css')}`)).text();
    expect(css).not.toContain('sourceMappingURL');
    const licence = await fetch(`${base}/docs/assets/swagger-ui.LICENSE.txt`);
    expect(licence.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await licence.text()).toContain('Apache License');
    const third = await fetch(`${base}/docs/assets/swagger-ui-bundle.js.LICENSE.txt`);
    expect(third.status).toBe(200);
    await third.arrayBuffer();
    const script = await (await fetch(`${base}/${assets.get('docs.js')}`)).text();
    expect(script).toContain('validatorUrl: null');
  });

  it('keeps the document behind auth: the page carries no data, openapi.json needs the token', async () => {
    expect((await fetch(`${base}/docs`)).status).toBe(200);
    const refused = await fetch(`${base}/openapi.json`);
    expect(refused.status).toBe(401);
    expect((await json(refused)).error.code).toBe('E_UNAUTHORIZED');
    const wrong = await fetch(`${base}/openapi.json`, {
      headers: { authorization: 'Bearer not-the-token' },
    });
    expect(wrong.status).toBe(401);
    await wrong.arrayBuffer();
    const allowed = await fetch(`${base}/openapi.json`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(allowed.status).toBe(200);
    const doc = await json(allowed);
    expect(doc.paths['/docs'].get).toMatchObject({ operationId: 'docs', security: [] });
    expect(doc.paths['/docs/assets/{file}'].get).toMatchObject({
      operationId: 'docsAsset',
      security: [],
    });
  });

  it('redirects /docs/ to /docs and answers 404 for an unknown file', async () => {
    const slash = await fetch(`${base}/docs/`, { redirect: 'manual' });
    expect(slash.status).toBe(308);
    expect(slash.headers.get('location')).toBe('../docs');
    for (const name of ['nope.js', 'page.html', '__proto__', 'swagger-ui-bundle.js.map']) {
      const missing = await fetch(`${base}/docs/assets/${name}`);
      expect(missing.status, name).toBe(404);
      expect((await json(missing)).error.code).toBe('E_NOT_FOUND');
    }
  });

  it('links the page from the dashboard', async () => {
    const dashboard = await (await fetch(`${base}/dashboard`)).text();
    expect(dashboard).toContain('<a class="docs-link" href="docs">API docs</a>');
  });
});

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/**
 * Every framework example starts, answers its own requests (`--smoke`) and exits 0 by itself: a
 * process that stayed open (a timer, a stream, a server not closed) would hit the timeout.
 */
describe('framework examples (--smoke)', () => {
  it.each(['express', 'fastify', 'koa', 'hono', 'nestjs', 'node'])(
    'examples/%s-app.ts starts, serves the app and the monitoring router, and exits',
    async (name) => {
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', `examples/${name}-app.ts`, '--smoke'],
        { env: { ...process.env, PORT: '0', LOG_LEVEL: 'silent' }, timeout: 30_000 },
      );
      expect(stdout).toMatch(
        /dashboard: +http:\/\/127\.0\.0\.1:\d+\/api\/v1\/monitoring\/dashboard/,
      );
      expect(stdout).toContain('smoke: GET /users/42 -> 200');
      expect(stdout).toContain('smoke: GET /api/v1/monitoring/performance/summary -> 401');
      expect(stdout).toContain('smoke: GET /api/v1/monitoring/dashboard -> 200');
    },
  );
});

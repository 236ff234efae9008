// An attack through a real server (Fastify and Express, the middleware's `security` option): attack
// payloads and a run of failed logins bring the security score below 70; the module says so
// (`score-low`) and the alerts module of the same instance fires its built-in SecurityScoreLow.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Enterprise } from '../../../src/index.js';
import type { SecurityScoreEvent } from '../../../src/security/score.js';
import { ATTACKS, SCANNER_AGENTS } from '../screening/corpus.js';
import { attemptLogin, e2eEnterprise, FRAMEWORKS, type Host, send, startHost } from './support.js';

describe.each(FRAMEWORKS)('the security score under an attack through %s', (framework) => {
  let host: Host | undefined;
  let enterprise: Enterprise | undefined;
  afterEach(async () => {
    await host?.close();
    await enterprise?.shutdown();
  });

  it('falls below 70: score-low is emitted and SecurityScoreLow fires', async () => {
    enterprise = e2eEnterprise({
      security: { mode: 'detect', score: { intervalMs: 200 } },
      alerts: {
        evaluationInterval: '200ms',
        builtin: { securityScoreLow: { for: '1s' } },
      },
    });
    const low: SecurityScoreEvent[] = [];
    enterprise.security.on('score-low', (event) => low.push(event));
    await enterprise.start();
    host = await startHost(framework, enterprise);
    const { port } = host;

    // Quiet traffic first: the score is healthy and nothing fires.
    for (let i = 0; i < 30; i++) {
      expect((await send(port, { path: `/products/${i}?ref=home` })).status).toBe(200);
    }
    expect(enterprise.security.score().score).toBeGreaterThanOrEqual(70);

    // The attack: payloads of every kind, scanners, probes, and a credential run.
    for (const [category, payloads] of Object.entries(ATTACKS)) {
      for (const payload of payloads) {
        await send(port, { path: `/search?q=${encodeURIComponent(payload)}&c=${category}` });
      }
    }
    for (const agent of SCANNER_AGENTS) {
      await send(port, { path: '/.env', headers: { 'user-agent': agent } });
    }
    for (let i = 0; i < 40; i++) {
      const response = await attemptLogin(
        port,
        `user-${i % 15}`,
        `pw-${i}`,
        `127.0.3.${(i % 8) + 1}`,
      );
      expect(response.status).toBe(401);
    }

    const score = enterprise.security.score();
    expect(score.score).toBeLessThan(70);
    expect(score.low).toBe(true);
    await vi.waitFor(() => expect(low.length).toBeGreaterThanOrEqual(1), { timeout: 5_000 });
    expect(low[0]!.score).toBeLessThan(70);

    const firing = await vi.waitFor(
      () => {
        const alerts = enterprise!.alerts.list({ state: 'firing' });
        const alert = alerts.find((a) => a.rule === 'SecurityScoreLow');
        if (alert === undefined) throw new Error(`not firing yet: ${alerts.map((a) => a.rule)}`);
        return alert;
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(firing.labels.alertname).toBe('SecurityScoreLow');
    expect(firing.value).toBeLessThan(70);
  }, 30_000);
});

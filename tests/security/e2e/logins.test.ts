// Login attacks through a real login route (Fastify and Express, the middleware's `security` option
// on) that records each attempt with `security.recordLogin`, the address being the request's
// client key. The clients connect from many loopback addresses (127.0.0.0/8 is all this machine's),
// so no proxy is trusted and none is needed: brute force on one account, password spraying from one
// address, credential stuffing from many — each detected; an ordinary mix of typos is not.
import { afterEach, describe, expect, it } from 'vitest';
import type { Enterprise } from '../../../src/index.js';
import type { ThreatEvent } from '../../../src/security/types.js';
import { attemptLogin, e2eEnterprise, FRAMEWORKS, type Host, startHost } from './support.js';

describe.each(FRAMEWORKS)('login attacks through a %s login route', (framework) => {
  let host: Host | undefined;
  let enterprise: Enterprise | undefined;
  const threats: ThreatEvent[] = [];

  async function start(): Promise<Host> {
    threats.length = 0;
    enterprise = e2eEnterprise({ security: { mode: 'detect' } });
    enterprise.security.on('threat', (threat) => threats.push(threat));
    host = await startHost(framework, enterprise);
    return host;
  }
  afterEach(async () => {
    await host?.close();
    await enterprise?.shutdown();
    host = undefined;
    enterprise = undefined;
  });
  const loginThreats = () => threats.filter((threat) => threat.location === 'logins');

  it('detects brute force: one account failing again and again', async () => {
    const { port } = await start();
    for (let i = 0; i < 12; i++) {
      const response = await attemptLogin(port, 'ada', `guess-${i}`, '127.0.0.2');
      expect(response.status).toBe(401);
    }
    expect(loginThreats()).toEqual([
      expect.objectContaining({
        category: 'brute-force',
        evidence: expect.stringContaining('account=ada'),
      }),
    ]);
    expect(enterprise!.security.logins.stats()).toMatchObject({ attempts: 12, failed: 12 });
  });

  it('detects password spraying: one address trying one password on many accounts', async () => {
    const { port } = await start();
    for (let i = 0; i < 12; i++) {
      await attemptLogin(port, `user-${i}`, 'Summer2024!', '127.0.0.3');
    }
    expect(loginThreats()).toEqual([
      expect.objectContaining({ category: 'password-spraying', client: '127.0.0.3' }),
    ]);
  });

  it('detects credential stuffing: many addresses, many accounts, few successes', async () => {
    const { port } = await start();
    const attempts: Promise<unknown>[] = [];
    for (let i = 0; i < 130; i++) {
      const address = `127.0.1.${(i % 30) + 1}`;
      // A leaked list: mostly wrong pairs, now and then a right one.
      attempts.push(
        i % 13 === 0
          ? attemptLogin(port, 'grace', 'battery staple', address)
          : attemptLogin(port, `leaked-${i % 60}@example.com`, `pw-${i}`, address),
      );
      if (attempts.length === 10) await Promise.all(attempts.splice(0));
    }
    await Promise.all(attempts);
    const found = loginThreats();
    expect(found.map((threat) => threat.category)).toContain('credential-stuffing');
    // Nobody is one brute-forcer or one sprayer here.
    expect(found.filter((threat) => threat.category !== 'credential-stuffing')).toEqual([]);
    const stats = enterprise!.security.logins.stats();
    expect(stats.failed).toBe(120);
    expect(stats.attempts).toBe(130);
  });

  it('finds nothing in ordinary logins: a few typos among successes, from many people', async () => {
    const { port } = await start();
    for (let i = 0; i < 20; i++) {
      const address = `127.0.2.${i + 1}`;
      const user = i % 2 === 0 ? 'ada' : 'grace';
      if (i % 4 === 0) await attemptLogin(port, user, 'typo', address);
      const ok = await attemptLogin(
        port,
        user,
        user === 'ada' ? 'correct horse' : 'battery staple',
        address,
      );
      expect(ok.status).toBe(200);
    }
    expect(loginThreats()).toEqual([]);
  });
});

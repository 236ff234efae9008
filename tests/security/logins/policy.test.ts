import { describe, expect, it, vi } from 'vitest';
import { SecurityRefusalError } from '../../../src/security/errors.js';
import type { LockoutEvent } from '../../../src/security/logins/index.js';
import { LoginAnalytics } from '../../../src/security/logins/index.js';
import { EPOCH, fakeClock } from '../../support/test-doubles.js';

const MINUTE = 60_000;

function analytics(options: ConstructorParameters<typeof LoginAnalytics>[0] = {}) {
  const clock = fakeClock();
  const logins = new LoginAnalytics({ clock, ...options });
  const lockouts: LockoutEvent[] = [];
  logins.on('lockout', (event) => lockouts.push(event));
  const fail = (userId: string, ip: string) => logins.record({ userId, ip, success: false });
  const succeed = (userId: string, ip: string) => logins.record({ userId, ip, success: true });
  return { clock, logins, lockouts, fail, succeed };
}

describe('lockout', () => {
  it('without a policy every attempt is allowed without delay', () => {
    const { logins, fail } = analytics();
    for (let i = 0; i < 50; i++) fail('alice', '198.51.100.1');
    expect(logins.check('alice', '198.51.100.1')).toEqual({ allowed: true, delayMs: 0 });
  });

  it('locks an account for the failing address only (account-address), then lifts it on time', () => {
    const { clock, logins, lockouts, fail } = analytics({
      lockout: { failures: 5, duration: '15m' },
    });
    for (let i = 0; i < 4; i++) fail('alice', '198.51.100.1');
    expect(logins.check('alice', '198.51.100.1').allowed).toBe(true);
    fail('alice', '198.51.100.1');
    const until = EPOCH + 15 * MINUTE;
    expect(logins.check('alice', '198.51.100.1')).toEqual({
      allowed: false,
      delayMs: 15 * MINUTE,
      lockedUntil: until,
      locked: 'account-address',
    });
    expect(lockouts).toEqual([
      { scope: 'account-address', userId: 'alice', ip: '198.51.100.1', until, failures: 5 },
    ]);
    // Its owner, elsewhere, is not locked out by the attacker.
    expect(logins.check('alice', '203.0.113.5').allowed).toBe(true);
    clock.advance(15 * MINUTE - 1);
    expect(logins.check('alice', '198.51.100.1')).toMatchObject({ allowed: false, delayMs: 1 });
    clock.advance(1);
    expect(logins.check('alice', '198.51.100.1')).toEqual({ allowed: true, delayMs: 0 });
  });

  it('locks longer each time it comes back, up to maxDuration', () => {
    const { clock, logins, lockouts, fail } = analytics({
      lockout: { failures: 3, duration: '10m', maxDuration: '25m' },
    });
    const durations: number[] = [];
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 3; i++) fail('alice', '198.51.100.1');
      const decision = logins.check('alice', '198.51.100.1');
      expect(decision.allowed).toBe(false);
      durations.push(decision.delayMs);
      clock.advance(decision.delayMs);
    }
    expect(durations).toEqual([10 * MINUTE, 20 * MINUTE, 25 * MINUTE, 25 * MINUTE]);
    expect(lockouts).toHaveLength(4);
  });

  it('attempts refused while locked do not prolong the lockout', () => {
    const { clock, logins, fail } = analytics({ lockout: { failures: 3, duration: '10m' } });
    for (let i = 0; i < 3; i++) fail('alice', '198.51.100.1');
    for (let i = 0; i < 10; i++) {
      logins.record({ userId: 'alice', ip: '198.51.100.1', success: false, reason: 'locked' });
    }
    clock.advance(10 * MINUTE);
    expect(logins.check('alice', '198.51.100.1').allowed).toBe(true);
  });

  it('a success clears the consecutive failures', () => {
    const { logins, fail, succeed } = analytics({ lockout: { failures: 3 } });
    for (let round = 0; round < 5; round++) {
      fail('alice', '198.51.100.1');
      fail('alice', '198.51.100.1');
      succeed('alice', '198.51.100.1');
    }
    expect(logins.check('alice', '198.51.100.1').allowed).toBe(true);
  });

  it("scope 'account' locks the account for every address", () => {
    const { logins, fail } = analytics({ lockout: { failures: 4, scope: 'account' } });
    for (let i = 0; i < 4; i++) fail('alice', `198.51.100.${i}`);
    expect(logins.check('alice', '203.0.113.5')).toMatchObject({
      allowed: false,
      locked: 'account',
    });
    expect(logins.check('bob', '198.51.100.1').allowed).toBe(true);
    logins.unlock('alice');
    expect(logins.check('alice', '203.0.113.5').allowed).toBe(true);
  });

  it('locks an address failing too often across accounts', () => {
    const { logins, lockouts, fail } = analytics({
      spraying: false,
      lockout: { failures: 100, addressFailures: 20, duration: '1h' },
    });
    for (let i = 0; i < 20; i++) fail(`user${i}`, '192.0.2.66');
    expect(logins.check('anyone', '192.0.2.66')).toMatchObject({
      allowed: false,
      locked: 'address',
      delayMs: 60 * MINUTE,
    });
    expect(logins.check('anyone', '192.0.2.67').allowed).toBe(true);
    expect(lockouts.map((l) => l.scope)).toEqual(['address']);
    logins.unlockAddress('192.0.2.66');
    expect(logins.check('anyone', '192.0.2.66').allowed).toBe(true);
  });
});

describe('progressive delay', () => {
  it('grows from baseMs after afterFailures, doubles, is capped, counts from the last failure', () => {
    const { clock, logins, fail } = analytics({
      delay: { afterFailures: 3, baseMs: 1_000, maxMs: 5_000 },
    });
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      fail('alice', '198.51.100.1');
      delays.push(logins.check('alice', '198.51.100.1').delayMs);
    }
    expect(delays).toEqual([0, 0, 1_000, 2_000, 4_000, 5_000, 5_000]);
    clock.advance(1_500);
    expect(logins.check('alice', '198.51.100.1')).toEqual({ allowed: true, delayMs: 3_500 });
    // The account's delay holds for any address; other accounts have none.
    expect(logins.check('alice', '203.0.113.1').delayMs).toBe(3_500);
    expect(logins.check('bob', '198.51.100.1').delayMs).toBe(0);
    clock.advance(3_500);
    expect(logins.check('alice', '198.51.100.1').delayMs).toBe(0);
  });

  it('a success resets it', () => {
    const { logins, fail, succeed } = analytics({ delay: { afterFailures: 2 } });
    for (let i = 0; i < 4; i++) fail('alice', '198.51.100.1');
    expect(logins.check('alice', '198.51.100.1').delayMs).toBeGreaterThan(0);
    succeed('alice', '198.51.100.1');
    expect(logins.check('alice', '198.51.100.1').delayMs).toBe(0);
  });
});

describe('wrapLogin', () => {
  const users: Record<string, string> = { alice: 'correct horse' };
  const authenticate = async (form: { username: string; password: string; ip: string }) =>
    users[form.username] === form.password ? { id: form.username } : null;
  const extract = (form: { username: string; ip: string }) => ({
    userId: form.username,
    ip: form.ip,
  });

  it('records what the login function returned', async () => {
    const { logins } = analytics({ bruteForce: false });
    const login = logins.wrapLogin(authenticate, extract);
    expect(await login({ username: 'alice', password: 'correct horse', ip: '10.0.0.1' })).toEqual({
      id: 'alice',
    });
    expect(await login({ username: 'alice', password: 'wrong', ip: '10.0.0.1' })).toBeNull();
    expect(logins.stats()).toMatchObject({ attempts: 2, failed: 1 });
  });

  it('refuses while locked, without calling the function, and records the refusal', async () => {
    const { logins } = analytics({ lockout: { failures: 2, duration: '5m' } });
    const fn = vi.fn(authenticate);
    const login = logins.wrapLogin(fn, extract);
    const form = { username: 'alice', password: 'wrong', ip: '10.0.0.1' };
    await login(form);
    await login(form);
    const refused = await login({ ...form, password: 'correct horse' }).catch((error) => error);
    expect(refused).toBeInstanceOf(SecurityRefusalError);
    expect(refused.status).toBe(429);
    expect(refused.context).toMatchObject({ reason: 'rate-limit', retryAfterMs: 5 * MINUTE });
    expect(fn).toHaveBeenCalledTimes(2);
    expect(logins.stats()).toMatchObject({ attempts: 3, failed: 3 });
  });

  it('records a throw as a failure (or not, by the failure predicate) and rethrows it', async () => {
    const { logins } = analytics();
    const boom = new Error('database down');
    const wrong = new Error('bad password');
    const fn = async (form: { username: string; ip: string; error: Error }) => {
      throw form.error;
    };
    const login = logins.wrapLogin(fn, extract, { failure: (error) => error === wrong });
    await expect(login({ username: 'alice', ip: '10.0.0.1', error: wrong })).rejects.toBe(wrong);
    await expect(login({ username: 'alice', ip: '10.0.0.1', error: boom })).rejects.toBe(boom);
    expect(logins.stats()).toMatchObject({ attempts: 1, failed: 1 });
  });

  it('waits out the progressive delay before verifying', async () => {
    const logins = new LoginAnalytics({ delay: { afterFailures: 1, baseMs: 80, maxMs: 80 } });
    const login = logins.wrapLogin(authenticate, extract, { succeeded: (user) => user !== null });
    await login({ username: 'alice', password: 'wrong', ip: '10.0.0.1' });
    const started = performance.now();
    expect(await login({ username: 'alice', password: 'correct horse', ip: '10.0.0.1' })).toEqual({
      id: 'alice',
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(60);
  });
});

describe('bounded memory', () => {
  it('forgets the least recent accounts beyond maxAccounts', () => {
    const { logins, fail } = analytics({
      maxAccounts: 50,
      maxAddresses: 50,
      spraying: false,
      delay: { afterFailures: 1 },
    });
    fail('first', '198.51.100.1');
    expect(logins.check('first', '198.51.100.1').delayMs).toBeGreaterThan(0);
    for (let i = 0; i < 500; i++) fail(`user${i}`, `10.0.${i >> 8}.${i & 255}`);
    const stats = logins.stats();
    expect(stats.failingAccounts).toBe(50);
    expect(stats.failingAddresses).toBe(50);
    expect(logins.check('first', '198.51.100.1').delayMs).toBe(0);
  });

  it('forgets an account a window after its last failure', () => {
    const { clock, logins, fail } = analytics({ lockout: { failures: 10 } });
    for (let i = 0; i < 9; i++) fail('alice', '198.51.100.1');
    clock.advance(10 * MINUTE);
    logins.stats();
    // The nine failures are gone with the entry: nine more do not lock.
    for (let i = 0; i < 9; i++) fail('alice', '198.51.100.1');
    expect(logins.check('alice', '198.51.100.1').allowed).toBe(true);
    fail('alice', '198.51.100.1');
    expect(logins.check('alice', '198.51.100.1').allowed).toBe(false);
  });

  it('keeps a long user id as a short key', () => {
    const { logins, fail } = analytics();
    const huge = 'x'.repeat(1_000_000);
    fail(huge, '198.51.100.1');
    fail(huge, '198.51.100.1');
    const [top] = logins.stats().topAccounts;
    expect(top!.failures).toBe(2);
    expect(top!.userId.length).toBeLessThan(100);
  });
});

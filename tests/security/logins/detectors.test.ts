import { describe, expect, it } from 'vitest';
import { SecurityConfigError } from '../../../src/security/errors.js';
import { LoginAnalytics } from '../../../src/security/logins/index.js';
import type { LoginAttempt, ThreatEvent } from '../../../src/security/types.js';
import { fakeClock } from '../../support/test-doubles.js';

/** Analytics on a fake clock, with every threat collected. */
function analytics(options: ConstructorParameters<typeof LoginAnalytics>[0] = {}) {
  const clock = fakeClock();
  const logins = new LoginAnalytics({ clock, ...options });
  const threats: ThreatEvent[] = [];
  logins.on('threat', (threat) => threats.push(threat));
  const fail = (userId: string, ip: string) =>
    logins.record({ userId, ip, success: false, reason: 'bad-password' });
  const succeed = (userId: string, ip: string) => logins.record({ userId, ip, success: true });
  return { clock, logins, threats, fail, succeed };
}

/** A deterministic pseudo-random sequence (mulberry32), so the mixes are the same every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('login attempts are validated', () => {
  it.each([
    [{ ip: '203.0.113.7', success: false }, 'userId'],
    [{ userId: '', ip: '203.0.113.7', success: false }, 'userId'],
    [{ userId: 'alice', success: true }, 'ip'],
    [{ userId: 'alice', ip: '203.0.113.7' }, 'success'],
    [{ userId: 'alice', ip: '203.0.113.7', success: true, at: Number.NaN }, 'at'],
  ])('%j is refused, naming %s', (attempt, field) => {
    const { logins } = analytics();
    const error = (() => {
      try {
        logins.record(attempt as LoginAttempt);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(SecurityConfigError);
    expect((error as SecurityConfigError).code).toBe('E_SECURITY_CONFIG');
    expect((error as SecurityConfigError).context.field).toBe(field);
    expect((error as Error).message).toContain(field);
  });

  it('a bad option names the option', () => {
    expect(() => new LoginAnalytics({ bruteForce: { failures: 0 } })).toThrow(
      expect.objectContaining({
        context: expect.objectContaining({ field: 'bruteForce.failures' }),
      }),
    );
    expect(() => new LoginAnalytics({ window: 'soon' as '1m' })).toThrow(/window/);
    expect(() => new LoginAnalytics({ lockout: { scope: 'everyone' as 'account' } })).toThrow(
      /lockout\.scope/,
    );
  });
});

describe('brute force on one account', () => {
  it('ten failures on one account from one address are reported once, against that address', () => {
    const { clock, threats, fail } = analytics();
    for (let i = 0; i < 9; i++) {
      fail('alice', '198.51.100.9');
      clock.advance(5_000);
    }
    expect(threats).toEqual([]);
    const found = fail('alice', '198.51.100.9');
    expect(found).toHaveLength(1);
    expect(threats).toEqual([
      expect.objectContaining({
        category: 'brute-force',
        rule: 'logins.brute-force',
        client: '198.51.100.9',
        location: 'logins',
        blocked: false,
      }),
    ]);
    expect(threats[0]!.evidence).toContain('account=alice');
    expect(threats[0]!.confidence).toBeGreaterThanOrEqual(0.7);
    // Still going: not reported again within the window.
    for (let i = 0; i < 20; i++) fail('alice', '198.51.100.9');
    expect(threats).toHaveLength(1);
    // A window later it is reported again.
    clock.advance(10 * 60_000);
    for (let i = 0; i < 10; i++) fail('alice', '198.51.100.9');
    expect(threats.filter((t) => t.category === 'brute-force')).toHaveLength(2);
  });

  it('failures on one account from many addresses are brute force too, held against the worst one', () => {
    const { threats, fail } = analytics();
    for (let i = 0; i < 6; i++) fail('bob', `203.0.113.${i}`);
    for (let i = 0; i < 4; i++) fail('bob', '203.0.113.99');
    const brute = threats.filter((t) => t.category === 'brute-force');
    expect(brute).toHaveLength(1);
    expect(brute[0]!.client).toBe('203.0.113.99');
    expect(brute[0]!.evidence).toContain('addresses=7');
  });

  it('the same failures spread beyond the window are not', () => {
    const { clock, threats, fail } = analytics();
    for (let i = 0; i < 30; i++) {
      fail('carol', '198.51.100.20');
      clock.advance(2 * 60_000);
    }
    expect(threats).toEqual([]);
  });
});

describe('password spraying from one address', () => {
  it('one address failing on ten accounts is reported against it', () => {
    const { threats, fail } = analytics();
    for (let i = 0; i < 9; i++) fail(`user${i}`, '192.0.2.50');
    expect(threats).toEqual([]);
    fail('user9', '192.0.2.50');
    expect(threats).toEqual([
      expect.objectContaining({ category: 'password-spraying', client: '192.0.2.50' }),
    ]);
    expect(threats[0]!.evidence).toContain('accounts=10');
  });

  it('one address failing ten times on one account is not spraying', () => {
    const { threats, fail } = analytics({ bruteForce: false });
    for (let i = 0; i < 30; i++) fail('dave', '192.0.2.51');
    expect(threats).toEqual([]);
  });
});

describe('credential stuffing across the deployment', () => {
  it('many addresses on many accounts with few successes are reported once, for the deployment', () => {
    const { clock, threats, fail, succeed } = analytics();
    const next = random(7);
    // 40 addresses of a botnet, each trying 4 leaked pairs; 2 of 160 work.
    let tried = 0;
    for (let bot = 0; bot < 40; bot++) {
      for (let k = 0; k < 4; k++) {
        const user = `victim${tried++}`;
        if (tried % 80 === 0) succeed(user, `100.64.${bot}.1`);
        else fail(user, `100.64.${bot}.1`);
        clock.advance(Math.floor(next() * 1_000));
      }
    }
    const stuffing = threats.filter((t) => t.category === 'credential-stuffing');
    expect(stuffing).toHaveLength(1);
    expect(stuffing[0]!.client).toBe('*');
    expect(stuffing[0]!.rule).toBe('logins.credential-stuffing');
    // No one account or address crossed its own threshold.
    expect(threats.filter((t) => t.category !== 'credential-stuffing')).toEqual([]);
  });

  it('the same failures among plenty of successes are not', () => {
    const { clock, threats, fail, succeed } = analytics();
    let tried = 0;
    for (let bot = 0; bot < 40; bot++) {
      for (let k = 0; k < 4; k++) {
        fail(`someone${tried++}`, `100.64.${bot}.1`);
        for (let s = 0; s < 3; s++) succeed(`regular${tried}-${s}`, `10.1.${bot}.${s}`);
        clock.advance(500);
      }
    }
    expect(threats).toEqual([]);
  });
});

describe('a realistic normal login mix', () => {
  it('typos, a few users failing now and then and a shared office address report nothing', () => {
    const { clock, logins, threats, fail, succeed } = analytics();
    const next = random(42);
    let failures = 0;
    let attempts = 0;
    // Two hours of traffic from 2,000 users, one login every 1.8 s on average; 60 of the users sit
    // behind one office NAT address.
    for (let i = 0; i < 4_000; i++) {
      const user = Math.floor(next() * 2_000);
      const ip = user < 60 ? '198.18.0.1' : `10.${user >> 8}.${user & 255}.${1 + (user % 3)}`;
      const roll = next();
      if (roll < 0.06) {
        // A typo, then the right password.
        fail(`user${user}`, ip);
        succeed(`user${user}`, ip);
        failures++;
        attempts += 2;
      } else if (roll < 0.065) {
        // Forgot it: three tries, then gave up (or reset it).
        for (let k = 0; k < 3; k++) fail(`user${user}`, ip);
        failures += 3;
        attempts += 3;
      } else {
        succeed(`user${user}`, ip);
        attempts++;
      }
      clock.advance(Math.floor(next() * 3_600));
    }
    expect(threats).toEqual([]);
    const stats = logins.stats();
    expect(stats.attempts).toBeGreaterThan(0);
    expect(stats.successRate).toBeGreaterThan(0.85);
    expect(stats.stuffing).toBe(false);
    expect(failures / attempts).toBeLessThan(0.1);
  });
});

describe('per-window stats', () => {
  it('count failures, the success rate and the top accounts and addresses', () => {
    const { clock, logins, fail, succeed } = analytics({ bruteForce: false, spraying: false });
    for (let i = 0; i < 5; i++) fail('alice', '198.51.100.1');
    for (let i = 0; i < 3; i++) fail('bob', '198.51.100.2');
    fail('bob', '198.51.100.1');
    fail('carol', '198.51.100.3');
    for (let i = 0; i < 10; i++) succeed(`user${i}`, '10.0.0.1');
    clock.advance(1_000);
    const stats = logins.stats();
    expect(stats).toMatchObject({
      windowMs: 600_000,
      attempts: 20,
      failed: 10,
      succeeded: 10,
      successRate: 0.5,
      failingAccounts: 3,
      failingAddresses: 3,
    });
    expect(stats.topAccounts.map((a) => [a.userId, a.failures, a.addresses])).toEqual([
      ['alice', 5, 1],
      ['bob', 4, 2],
      ['carol', 1, 1],
    ]);
    expect(stats.topAddresses.map((a) => [a.ip, a.failures, a.accounts])).toEqual([
      ['198.51.100.1', 6, 2],
      ['198.51.100.2', 3, 1],
      ['198.51.100.3', 1, 1],
    ]);
    // The window slides: eleven minutes later there is nothing left.
    clock.advance(11 * 60_000);
    expect(logins.stats()).toMatchObject({
      attempts: 0,
      failed: 0,
      successRate: 1,
      failingAccounts: 0,
      topAccounts: [],
    });
  });

  it('count the threats of the window by category', () => {
    const { logins, fail } = analytics();
    for (let i = 0; i < 10; i++) fail(`user${i}`, '192.0.2.9');
    for (let i = 0; i < 10; i++) fail('victim', '192.0.2.10');
    expect(logins.stats().threats).toEqual({ 'password-spraying': 1, 'brute-force': 1 });
  });
});

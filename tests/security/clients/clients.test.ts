import { afterEach, describe, expect, it } from 'vitest';
import { type ClientMatcher, Clients } from '../../../src/security/clients/index.js';
import { SecurityConfigError } from '../../../src/security/errors.js';
import type { Ban, ThreatEvent } from '../../../src/security/types.js';
import { fakeClock } from '../../support/test-doubles.js';

const opened: Clients[] = [];
function clients(options: ConstructorParameters<typeof Clients>[0] = {}) {
  const clock = fakeClock();
  const created = new Clients({ clock, ...options });
  opened.push(created);
  return { clock, clients: created };
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

function threat(client: string, confidence = 1): ThreatEvent {
  return {
    category: 'sql-injection',
    confidence,
    rule: 'sqli.union-select',
    client,
    location: 'query',
    blocked: false,
    at: 0,
  };
}

describe('allow and deny lists', () => {
  it('deny beats allow, and allow beats bans', async () => {
    const { clients: c } = clients({
      allow: ['10.0.0.5', '10.0.0.6'],
      deny: ['10.0.0.6', '192.0.2.1'],
    });
    await c.ban('10.0.0.5', '1h', 'by mistake');
    await c.ban('198.51.100.1', '1h', 'scanner');
    expect(c.decide('192.0.2.1')).toEqual({ allowed: false, reason: 'denied' });
    expect(c.decide('10.0.0.6')).toEqual({ allowed: false, reason: 'denied' });
    expect(c.decide('10.0.0.5')).toEqual({ allowed: true, allowListed: true });
    expect(c.decide('198.51.100.1')).toMatchObject({
      allowed: false,
      reason: 'banned',
      ban: { client: '198.51.100.1', reason: 'scanner' },
    });
    expect(c.decide('198.51.100.2')).toEqual({ allowed: true });
  });

  it('take any ClientMatcher (a CIDR matcher, say)', () => {
    const tenSlashEight: ClientMatcher = { has: (client) => client.startsWith('10.') };
    const { clients: c } = clients({ deny: tenSlashEight });
    expect(c.decide('10.9.8.7').allowed).toBe(false);
    expect(c.decide('11.9.8.7').allowed).toBe(true);
  });

  it('refuse a list that is neither', () => {
    expect(() => new Clients({ allow: 'everyone' as unknown as string[] })).toThrow(
      SecurityConfigError,
    );
    expect(() => new Clients({ deny: [''] })).toThrow(/deny/);
  });
});

describe('automatic bans', () => {
  it('ban a client whose risk reaches the threshold, once, with the signal that weighed most', async () => {
    const { clients: c } = clients({ autoBan: { threshold: 80, duration: '2h' } });
    const bans: Ban[] = [];
    c.bans.on('ban', (ban) => bans.push(ban));
    c.recordThreat(threat('203.0.113.7'));
    c.recordThreat(threat('203.0.113.7'));
    expect(c.isBanned('203.0.113.7')).toBe(false);
    expect(c.recordThreat(threat('203.0.113.7'))).toBe(90);
    expect(c.isBanned('203.0.113.7')).toBe(true);
    c.recordThreat(threat('203.0.113.7'));
    expect(bans).toHaveLength(1);
    expect(bans[0]).toMatchObject({ client: '203.0.113.7', source: 'threats' });
    expect(bans[0]!.until - bans[0]!.createdAt).toBe(2 * 3_600_000);
    expect(bans[0]!.reason).toMatch(/risk 90 reached 80/);
  });

  it('name failed logins or rate limiting as the source when they weigh most', async () => {
    const { clients: c } = clients({ autoBan: {} });
    for (let i = 0; i < 20; i++) c.recordLoginFailure('198.51.100.1');
    for (let i = 0; i < 40; i++) c.recordRateLimited('198.51.100.2');
    expect(c.bans.get('198.51.100.1')?.source).toBe('logins');
    expect(c.bans.get('198.51.100.2')?.source).toBe('rate-limit');
  });

  it('never ban an allow-listed client, and are off unless asked for', () => {
    const { clients: c } = clients({ allow: ['10.0.0.5'], autoBan: { threshold: 50 } });
    for (let i = 0; i < 5; i++) c.recordThreat(threat('10.0.0.5'));
    expect(c.isBanned('10.0.0.5')).toBe(false);
    const { clients: off } = clients();
    for (let i = 0; i < 5; i++) off.recordThreat(threat('203.0.113.7'));
    expect(off.risk.score('203.0.113.7')).toBe(100);
    expect(off.isBanned('203.0.113.7')).toBe(false);
  });

  it('end with their duration and come back only with new signals', async () => {
    const { clock, clients: c } = clients({ autoBan: { threshold: 80, duration: '1h' } });
    for (let i = 0; i < 6; i++) c.recordThreat(threat('203.0.113.7'));
    expect(c.isBanned('203.0.113.7')).toBe(true);
    clock.advance(3_600_000);
    // 180 points halved: still above the threshold, but the ban ended.
    expect(c.risk.score('203.0.113.7')).toBeCloseTo(90, 6);
    expect(c.isBanned('203.0.113.7')).toBe(false);
    c.recordThreat(threat('203.0.113.7', 0.1));
    expect(c.isBanned('203.0.113.7')).toBe(true);
  });
});

describe('top offenders', () => {
  it('come from the risk scores', () => {
    const { clients: c } = clients();
    c.recordThreat(threat('a', 0.5));
    c.recordThreat(threat('b'));
    c.recordResponse('c', 404);
    expect(c.top(2).map((entry) => entry.client)).toEqual(['b', 'a']);
  });
});

import { describe, expect, it } from 'vitest';
import { ClientRisk } from '../../../src/security/clients/index.js';
import { SecurityConfigError } from '../../../src/security/errors.js';
import type { ThreatCategory, ThreatEvent } from '../../../src/security/types.js';
import { fakeClock } from '../../support/test-doubles.js';

const HOUR = 3_600_000;

function threat(client: string, category: ThreatCategory, confidence = 1): ThreatEvent {
  return { category, confidence, rule: 'test', client, location: 'query', blocked: false, at: 0 };
}

function risk(options: ConstructorParameters<typeof ClientRisk>[0] = {}) {
  const clock = fakeClock();
  return { clock, risk: new ClientRisk({ clock, ...options }) };
}

describe('client risk score', () => {
  it('weighs threats by category and confidence', () => {
    const { risk: r } = risk();
    expect(r.recordThreat(threat('203.0.113.1', 'sql-injection'))).toBe(30);
    expect(r.recordThreat(threat('203.0.113.2', 'scanner', 0.5))).toBe(10);
    expect(r.recordThreat(threat('203.0.113.2', 'password-spraying', 0.8))).toBe(50);
    expect(r.score('203.0.113.1')).toBe(30);
    expect(r.score('198.51.100.1')).toBe(0);
  });

  it('holds a deployment-wide threat against no one', () => {
    const { risk: r } = risk();
    expect(r.recordThreat(threat('*', 'credential-stuffing'))).toBe(0);
    expect(r.size).toBe(0);
  });

  it('adds failed logins, rate-limit refusals and the share of error responses', () => {
    const { risk: r } = risk();
    r.recordLoginFailure('203.0.113.1', 3);
    expect(r.score('203.0.113.1')).toBe(12);
    r.recordRateLimited('203.0.113.1');
    expect(r.score('203.0.113.1')).toBe(14);
    // A scanner's 404s: all 20 responses errors count fully (30 points).
    for (let i = 0; i < 20; i++) r.recordResponse('203.0.113.9', 404);
    expect(r.score('203.0.113.9')).toBeCloseTo(30, 6);
    // Half errors over 10 responses: half the ratio, and half the volume needed.
    for (let i = 0; i < 5; i++) r.recordResponse('203.0.113.10', 200);
    for (let i = 0; i < 5; i++) r.recordResponse('203.0.113.10', 500);
    expect(r.score('203.0.113.10')).toBeCloseTo(7.5, 6);
    // 429 is the rate limiter's, not an error of the client's.
    for (let i = 0; i < 20; i++) r.recordResponse('203.0.113.11', 429);
    expect(r.score('203.0.113.11')).toBe(0);
    expect(r.explain('203.0.113.1')).toMatchObject({ logins: 12, rateLimited: 2, threats: 0 });
  });

  it('caps the score at 100', () => {
    const { risk: r } = risk();
    for (let i = 0; i < 10; i++) r.recordThreat(threat('203.0.113.1', 'command-injection'));
    expect(r.score('203.0.113.1')).toBe(100);
  });

  it('takes the weights it is given', () => {
    const { risk: r } = risk({ weights: { loginFailure: 10, threats: { scanner: 60 } } });
    expect(r.recordLoginFailure('a')).toBe(10);
    expect(r.recordThreat(threat('b', 'scanner'))).toBe(60);
    expect(r.recordThreat(threat('c', 'xss'))).toBe(25);
  });

  it('refuses bad options, naming them', () => {
    expect(() => new ClientRisk({ halfLife: 0 })).toThrow(SecurityConfigError);
    expect(() => new ClientRisk({ weights: { threats: { xss: -1 } } })).toThrow(
      /weights\.threats\.xss/,
    );
    expect(() => new ClientRisk({ maxClients: 1.5 })).toThrow(/maxClients/);
  });
});

describe('risk decays exponentially', () => {
  it('halves every half-life without new signals', () => {
    const { clock, risk: r } = risk({ halfLife: '1h' });
    r.recordThreat(threat('203.0.113.1', 'brute-force'));
    expect(r.score('203.0.113.1')).toBe(40);
    clock.advance(HOUR);
    expect(r.score('203.0.113.1')).toBeCloseTo(20, 6);
    clock.advance(HOUR);
    expect(r.score('203.0.113.1')).toBeCloseTo(10, 6);
    clock.advance(HOUR / 2);
    expect(r.score('203.0.113.1')).toBeCloseTo(10 / Math.SQRT2, 6);
    // New points add to what is left.
    expect(r.recordLoginFailure('203.0.113.1')).toBeCloseTo(10 / Math.SQRT2 + 4, 6);
  });

  it('follows the configured half-life', () => {
    const { clock, risk: r } = risk({ halfLife: '10m' });
    r.recordLoginFailure('203.0.113.1', 10);
    clock.advance(10 * 60_000);
    expect(r.score('203.0.113.1')).toBeCloseTo(20, 6);
  });

  it('keeps a heavy offender high for longer, up to 400 points', () => {
    const { clock, risk: r } = risk({ halfLife: '1h' });
    for (let i = 0; i < 100; i++) r.recordThreat(threat('203.0.113.1', 'command-injection'));
    clock.advance(2 * HOUR);
    expect(r.score('203.0.113.1')).toBe(100);
    clock.advance(HOUR);
    expect(r.score('203.0.113.1')).toBeCloseTo(50, 6);
  });

  it('lets the error volume decay too', () => {
    const { clock, risk: r } = risk({ halfLife: '1h' });
    for (let i = 0; i < 20; i++) r.recordResponse('203.0.113.9', 404);
    clock.advance(HOUR);
    expect(r.score('203.0.113.9')).toBeCloseTo(15, 6);
  });
});

describe('top offenders', () => {
  it('lists the n highest, highest first', () => {
    const { clock, risk: r } = risk();
    r.recordLoginFailure('a', 2);
    r.recordThreat(threat('b', 'sql-injection'));
    r.recordThreat(threat('c', 'password-spraying'));
    r.recordRateLimited('d');
    clock.advance(60_000);
    const top = r.top(3);
    expect(top.map((entry) => entry.client)).toEqual(['c', 'b', 'a']);
    expect(top[0]!.score).toBeLessThan(50);
    expect(top[0]!.score).toBeGreaterThan(49);
    expect(r.top(10)).toHaveLength(4);
    expect(r.top(0)).toEqual([]);
    expect(r.summary(25)).toEqual({ clients: 4, above: 2 });
  });

  it('names the signal that weighs most', () => {
    const { risk: r } = risk();
    r.recordLoginFailure('a', 5);
    r.recordRateLimited('a');
    r.recordRateLimited('b', 5);
    r.recordThreat(threat('c', 'xss'));
    expect([r.dominantSource('a'), r.dominantSource('b'), r.dominantSource('c')]).toEqual([
      'logins',
      'rate-limit',
      'threats',
    ]);
  });
});

describe('bounded memory', () => {
  it('never tracks more than maxClients, forgetting the decayed ones first', () => {
    const { clock, risk: r } = risk({ maxClients: 1_000, halfLife: '1h' });
    // Old offenders, a day ago: decayed to nothing.
    for (let i = 0; i < 500; i++) r.recordLoginFailure(`old${i}`, 5);
    clock.advance(24 * HOUR);
    for (let i = 0; i < 10; i++) r.recordThreat(threat(`attacker${i}`, 'sql-injection'));
    for (let i = 0; i < 5_000; i++) {
      r.recordLoginFailure(`new${i}`);
      expect(r.size).toBeLessThanOrEqual(1_000);
    }
    expect(r.score('old0')).toBe(0);
    expect(r.explain('old0')).toBeUndefined();
    // The attackers outlive the crowd of one-failure clients.
    for (let i = 0; i < 10; i++) expect(r.score(`attacker${i}`)).toBe(30);
    expect(r.top(1)[0]!.score).toBe(30);
  });

  it('prune() forgets the clients whose risk decayed away', () => {
    const { clock, risk: r } = risk({ halfLife: '1h' });
    r.recordLoginFailure('a');
    r.recordThreat(threat('b', 'command-injection'));
    clock.advance(3 * HOUR);
    expect(r.prune()).toBe(1);
    expect(r.size).toBe(1);
    expect(r.forget('b')).toBe(true);
    expect(r.size).toBe(0);
  });
});

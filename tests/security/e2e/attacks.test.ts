// Through real servers on loopback (Fastify and Express, the middleware's `security` option on):
// an attack mix — payloads of each screening category, scanner user agents, probes of sensitive
// paths, an oversized header — each detected with its category; ordinary traffic — pages, searches,
// browser headers, JSON APIs — never flagged; and in mode `block` the attacks refused with a 403.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Enterprise } from '../../../src/index.js';
import type { ThreatCategory, ThreatEvent } from '../../../src/security/types.js';
import { ATTACKS, ORDINARY, PROBES, SCANNER_AGENTS, USER_AGENTS } from '../screening/corpus.js';
import { e2eEnterprise, FRAMEWORKS, type Host, send, startHost } from './support.js';

interface Probe {
  category: ThreatCategory;
  rule?: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Where each category's payloads go: a query parameter a real application would read. */
const PARAMETER: Record<keyof typeof ATTACKS, string> = {
  'sql-injection': 'id',
  xss: 'comment',
  'path-traversal': 'file',
  'command-injection': 'host',
};

const ATTACK_MIX: Probe[] = [
  ...Object.entries(ATTACKS).flatMap(([category, payloads]) =>
    payloads.map((payload) => ({
      category: category as ThreatCategory,
      path: `/api/items?${PARAMETER[category as keyof typeof ATTACKS]}=${encodeURIComponent(payload)}&page=1`,
    })),
  ),
  ...SCANNER_AGENTS.map((agent) => ({
    category: 'scanner' as const,
    path: '/',
    headers: { 'user-agent': agent },
  })),
  ...PROBES.map(([path, rule]) => ({ category: 'sensitive-path' as const, rule, path })),
  {
    category: 'malformed-request',
    rule: 'malformed.oversized-header',
    path: '/',
    headers: { 'x-debug-context': 'a'.repeat(10_000) },
  },
];

const BROWSER = {
  'user-agent': USER_AGENTS[0]!,
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8',
  'accept-language': 'en-GB,en;q=0.9',
  'accept-encoding': 'gzip, deflate, br',
};
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const API_READ = {
  'user-agent': 'okhttp/4.12.0',
  accept: 'application/json',
  authorization: `Bearer ${JWT}`,
};
const API = { ...API_READ, 'content-type': 'application/json' };

/** Ordinary traffic: the screening corpus's requests sent with a browser's headers, and JSON APIs. */
const ORDINARY_TRAFFIC: Omit<Probe, 'category'>[] = [
  ...ORDINARY.map((parts) => ({
    path: parts.query ? `${parts.path}?${parts.query}` : (parts.path ?? '/'),
    headers: { ...BROWSER, ...(parts.headers as Record<string, string> | undefined) },
  })),
  {
    method: 'GET',
    path: '/api/v2/orders?status=open&sort=-created_at&limit=25',
    headers: API_READ,
  },
  {
    method: 'POST',
    path: '/api/v2/orders',
    headers: API,
    body: JSON.stringify({ items: [{ sku: 'A-1', qty: 2 }], note: "Leave it at the neighbour's" }),
  },
  {
    method: 'PATCH',
    path: '/api/v2/users/42',
    headers: API,
    body: JSON.stringify({ displayName: "Dara O'Brien", locale: 'en-IE' }),
  },
  { method: 'PUT', path: '/api/v2/carts/7f3c/items/A-1', headers: API, body: '{"qty":3}' },
  { method: 'DELETE', path: '/api/v2/sessions/current', headers: API_READ },
  {
    method: 'POST',
    path: '/graphql',
    headers: API,
    body: JSON.stringify({
      query: 'query Orders($first: Int) { orders(first: $first) { id total } }',
      variables: { first: 10 },
    }),
  },
  { method: 'OPTIONS', path: '/api/v2/orders', headers: { origin: 'https://app.example.com' } },
  { method: 'HEAD', path: '/healthz' },
];

describe.each(FRAMEWORKS)('an attack mix and ordinary traffic through %s', (framework) => {
  let host: Host;
  let enterprise: Enterprise;
  const threats: ThreatEvent[] = [];
  beforeAll(async () => {
    enterprise = e2eEnterprise({ security: { mode: 'detect' } });
    enterprise.security.on('threat', (threat) => threats.push(threat));
    host = await startHost(framework, enterprise);
  });
  afterAll(async () => {
    await host?.close();
    await enterprise?.shutdown();
  });

  it('detects each attack with its category (mode detect: every request served)', async () => {
    expect(new Set(ATTACK_MIX.map((probe) => probe.category)).size).toBe(7);
    const missed: string[] = [];
    for (const [index, probe] of ATTACK_MIX.entries()) {
      const id = `attack-${index}`;
      const response = await send(host.port, {
        method: probe.method,
        path: probe.path,
        headers: { ...BROWSER, ...probe.headers, 'x-request-id': id },
      });
      expect(response.status, probe.path).toBe(200);
      const found = threats.filter((threat) => threat.correlationId === id);
      const hit = found.some(
        (threat) =>
          threat.category === probe.category &&
          (probe.rule === undefined || threat.rule === probe.rule),
      );
      if (!hit) {
        missed.push(`${probe.category} ${probe.path}: ${found.map((t) => t.rule).join(', ')}`);
      }
    }
    expect(missed).toEqual([]);
    for (const threat of threats) {
      expect(threat).toMatchObject({ client: '127.0.0.1', blocked: false });
    }
  });

  it('flags none of the ordinary requests', async () => {
    expect(ORDINARY_TRAFFIC.length).toBeGreaterThanOrEqual(50);
    const before = threats.length;
    for (const [index, probe] of ORDINARY_TRAFFIC.entries()) {
      const response = await send(host.port, {
        method: probe.method,
        path: probe.path,
        headers: { ...probe.headers, 'x-request-id': `ordinary-${index}` },
        body: probe.body,
      });
      expect([200, 204], `${probe.method ?? 'GET'} ${probe.path}`).toContain(response.status);
    }
    const flagged = threats
      .slice(before)
      .map((threat) => `${threat.correlationId}: ${threat.rule} in ${threat.location}`);
    expect(flagged).toEqual([]);
  });

  it("in mode 'block', refuses the strong findings with a 403 before the route runs", async () => {
    const blocking = e2eEnterprise({ security: { mode: 'block' } });
    const blocked = await startHost(framework, blocking);
    try {
      for (const path of [
        `/api/items?id=${encodeURIComponent("1' UNION SELECT password FROM users--")}`,
        `/api/items?comment=${encodeURIComponent('<script>alert(1)</script>')}`,
        `/download?file=${encodeURIComponent('../../../../etc/passwd')}`,
        '/.git/config',
      ]) {
        const response = await send(blocked.port, { path, headers: BROWSER });
        expect(response.status, path).toBe(403);
        expect(JSON.parse(response.body), path).toMatchObject({
          code: 'E_FORBIDDEN',
          reason: 'threat',
        });
      }
      const fine = await send(blocked.port, { path: '/search?q=shoes', headers: BROWSER });
      expect(fine.status).toBe(200);
    } finally {
      await blocked.close();
      await blocking.shutdown();
    }
  });
});

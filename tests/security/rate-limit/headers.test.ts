// What a response carries for a decision: RateLimit-Policy, RateLimit and Retry-After in the
// structured-field syntax of draft-ietf-httpapi-ratelimit-headers, and the 429 body.
import { describe, expect, it } from 'vitest';
import { SecurityConfigError } from '../../../src/security/errors.js';
import {
  createRateLimiter,
  RATE_LIMIT_BODY_TYPE,
  rateLimitBody,
  rateLimitHeaders,
} from '../../../src/security/rate-limit/index.js';

/** One sf-list item: an sf-string and integer parameters (RFC 9651 §3.1.2, §3.3.3). */
const ITEM = /^"(?:[\x20-\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"(?:;[a-z][a-z0-9_.*-]*=\d{1,15})+$/;

describe('rateLimitHeaders', () => {
  it('writes the policy and the current limit of an allowed call, without Retry-After', () => {
    const headers = rateLimitHeaders({
      allowed: true,
      limit: 100,
      remaining: 42,
      resetMs: 16_200,
      retryAfterMs: 0,
      windowMs: 60_000,
    });
    expect(headers).toEqual({
      'RateLimit-Policy': '"default";q=100;w=60',
      RateLimit: '"default";r=42;t=17',
    });
    for (const value of Object.values(headers)) expect(value).toMatch(ITEM);
  });

  it('adds Retry-After to a refused call, in seconds rounded up, and t never ends before it', () => {
    const headers = rateLimitHeaders(
      {
        allowed: false,
        limit: 5,
        remaining: 0,
        resetMs: 900_000,
        retryAfterMs: 179_001,
        windowMs: 900_000,
      },
      'login',
    );
    expect(headers).toEqual({
      'RateLimit-Policy': '"login";q=5;w=900',
      RateLimit: '"login";r=0;t=180',
      'Retry-After': '180',
    });
    for (const value of [headers['RateLimit-Policy'], headers.RateLimit])
      expect(value).toMatch(ITEM);
  });

  it('never says Retry-After: 0, and writes whole seconds for sub-second windows', () => {
    const headers = rateLimitHeaders({
      allowed: false,
      limit: 10,
      remaining: 0,
      resetMs: 80,
      retryAfterMs: 1,
      windowMs: 500,
    });
    expect(headers['Retry-After']).toBe('1');
    expect(headers['RateLimit-Policy']).toBe('"default";q=10;w=1');
  });

  it('leaves w out for a decision without a window (a store of your own)', () => {
    expect(
      rateLimitHeaders({ allowed: true, limit: 10, remaining: 9, resetMs: 100, retryAfterMs: 0 })[
        'RateLimit-Policy'
      ],
    ).toBe('"default";q=10');
  });

  it('escapes quotes and backslashes in the policy name, and refuses names that are not printable ASCII', () => {
    const decision = { allowed: true, limit: 1, remaining: 0, resetMs: 1_000, retryAfterMs: 0 };
    expect(rateLimitHeaders(decision, 'a "b" \\c').RateLimit).toBe('"a \\"b\\" \\\\c";r=0;t=1');
    expect(rateLimitHeaders(decision, 'a "b" \\c').RateLimit).toMatch(ITEM);
    for (const name of ['', 'ünïcödé', 'tab\there']) {
      try {
        rateLimitHeaders(decision, name);
        expect.unreachable(name);
      } catch (error) {
        expect(error).toBeInstanceOf(SecurityConfigError);
        expect((error as SecurityConfigError).context.field).toBe('policyName');
      }
    }
  });

  it("writes the limiter's decisions as they are, the dynamic limit included", async () => {
    const limiter = createRateLimiter({ limit: 100, window: '1m', dynamic: () => 0.5 });
    const decision = await limiter.consume('k');
    expect(rateLimitHeaders(decision)).toEqual({
      'RateLimit-Policy': '"default";q=50;w=60',
      RateLimit: '"default";r=49;t=2',
    });
  });
});

describe('rateLimitBody', () => {
  it('is problem details of the quota-exceeded type, naming the policy and the wait', () => {
    const body = rateLimitBody(
      { allowed: false, limit: 5, remaining: 0, resetMs: 60_000, retryAfterMs: 12_300 },
      'login',
    );
    expect(body).toEqual({
      type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
      title: 'Request cannot be satisfied as assigned quota has been exceeded',
      status: 429,
      detail: 'Too many requests: retry in 13 s.',
      'violated-policies': ['login'],
      code: 'E_RATE_LIMITED',
      retryAfter: 13,
    });
    expect(JSON.parse(JSON.stringify(body))).toEqual(body);
    expect(RATE_LIMIT_BODY_TYPE).toBe('application/problem+json');
  });
});

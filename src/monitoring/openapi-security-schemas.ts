// The schemas of the security endpoints in the OpenAPI document, after src/security/report.ts and
// src/monitoring/security-stream.ts.
import { arr, bool, int, nullable, num, obj, ref, type Schema, str } from './openapi-builders.js';

const epochMs: Schema = { type: 'number', description: 'Epoch milliseconds' };
const THREAT_CATEGORIES = [
  'sql-injection',
  'xss',
  'path-traversal',
  'command-injection',
  'scanner',
  'sensitive-path',
  'malformed-request',
  'auth-burst',
  'brute-force',
  'password-spraying',
  'credential-stuffing',
];
/** Counts by threat category; a category without any is left out. */
const byCategory: Schema = {
  type: 'object',
  propertyNames: ref('ThreatCategory'),
  additionalProperties: int,
};
const counters = {
  requests: int,
  serverErrors: { ...int, description: 'Responses with a 5xx status' },
  rateLimited: { ...int, description: 'Requests refused by a rate limit' },
  blocked: {
    ...int,
    description: 'Requests refused as threats, or from banned or denied clients',
  },
  bans: { ...int, description: 'Bans made' },
  threats: byCategory,
};
const eventKind: Schema = {
  type: 'string',
  enum: ['threat', 'limits', 'ban', 'unban', 'score', 'dropped'],
};

/** @internal The security schemas of the document's components, by name. */
export const SECURITY_SCHEMAS: Record<string, Schema> = {
  ThreatCategory: { type: 'string', enum: THREAT_CATEGORIES },
  ThreatEvent: obj(
    {
      category: ref('ThreatCategory'),
      confidence: { type: 'number', minimum: 0, maximum: 1 },
      rule: { type: 'string', examples: ['sqli.union-select'] },
      client: str,
      location: { type: 'string', examples: ['query', 'header:user-agent', 'logins'] },
      evidence: { type: 'string', maxLength: 100 },
      correlationId: str,
      blocked: bool,
      at: epochMs,
    },
    ['category', 'confidence', 'rule', 'client', 'location', 'blocked', 'at'],
  ),
  Ban: obj({
    client: {
      type: 'string',
      description: 'A client key (an IPv4 address, an IPv6 /64) or a CIDR range',
    },
    until: epochMs,
    reason: str,
    source: {
      type: 'string',
      description: '`manual`, or what banned it automatically: `threats`, `logins`, `rate-limit`',
    },
    createdAt: epochMs,
  }),
  BanInput: obj({
    client: {
      type: 'string',
      maxLength: 100,
      examples: ['203.0.113.7', '2001:db8::/64', '198.51.100.0/24'],
    },
    duration: {
      oneOf: [
        { type: 'number', exclusiveMinimum: 0, description: 'seconds' },
        { type: 'string', examples: ['30m', '1h', '7d'] },
      ],
    },
    reason: { type: 'string', minLength: 1, maxLength: 500 },
  }),
  BanResult: obj({ ok: bool, ban: ref('Ban') }),
  UnbanResult: obj({
    ok: bool,
    client: str,
    removed: { type: 'boolean', description: 'Whether a ban was in force and is lifted' },
  }),
  SecurityScoreComponent: obj({
    name: {
      type: 'string',
      enum: ['failed-logins', 'threats', 'pressure', 'suspicious-clients', 'hygiene'],
    },
    weight: num,
    value: {
      type: 'number',
      minimum: 0,
      maximum: 1,
      description: '1 is healthy, 0 as bad as it gets',
    },
    detail: str,
  }),
  SecurityMinute: obj({ at: epochMs, ...counters }),
  SecurityReport: obj({
    generatedAt: { type: 'string', format: 'date-time' },
    mode: { type: 'string', enum: ['detect', 'block'] },
    score: obj({
      score: { type: 'number', minimum: 0, maximum: 100 },
      components: arr(ref('SecurityScoreComponent')),
      threshold: num,
      low: { type: 'boolean', description: 'Whether the score is below its threshold' },
    }),
    windowMinutes: { type: 'number', description: 'The window of the score and the totals' },
    totals: obj({ ...counters, threatCount: int }),
    threats: obj({
      byCategory,
      series: {
        ...arr(ref('SecurityMinute')),
        description: 'Per minute over the last hour, oldest first',
      },
    }),
    clients: obj({
      tracked: int,
      suspicious: int,
      top: arr(
        obj({
          client: str,
          score: { type: 'number', minimum: 0, maximum: 100 },
          threats: num,
          logins: num,
          rateLimited: num,
          errors: num,
          errorRatio: num,
          updatedAt: epochMs,
        }),
      ),
    }),
    logins: obj(
      {
        windowMs: num,
        from: epochMs,
        to: epochMs,
        attempts: int,
        failed: int,
        succeeded: int,
        successRate: { type: 'number', minimum: 0, maximum: 1 },
        failingAccounts: int,
        failingAddresses: int,
        topAccounts: arr(
          obj({ userId: str, failures: int, addresses: int, lockedUntil: epochMs }, [
            'userId',
            'failures',
            'addresses',
          ]),
        ),
        topAddresses: arr(
          obj({ ip: str, failures: int, accounts: int, lockedUntil: epochMs }, [
            'ip',
            'failures',
            'accounts',
          ]),
        ),
        threats: { type: 'object', additionalProperties: int },
        stuffing: bool,
        locked: obj({ accounts: int, pairs: int, addresses: int }),
      },
      [
        'windowMs',
        'from',
        'to',
        'attempts',
        'failed',
        'succeeded',
        'successRate',
        'failingAccounts',
        'failingAddresses',
        'topAccounts',
        'topAddresses',
        'threats',
        'stuffing',
        'locked',
      ],
    ),
    rateLimits: obj({
      policies: arr(
        obj({
          name: str,
          limit: int,
          windowMs: num,
          allowed: int,
          refused: int,
          storeErrors: int,
          storeDown: bool,
          onInsurance: bool,
        }),
      ),
      pressure: obj({
        multiplier: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1,
          description: 'Every limit is decided as floor(limit × multiplier)',
        },
        reason: str,
      }),
      tightenedClients: int,
      changes: {
        ...arr(ref('LimitChange')),
        description: 'The latest changes of multipliers, newest last',
      },
    }),
    bans: arr(ref('Ban')),
  }),
  LimitChange: obj(
    {
      scope: { type: 'string', enum: ['client', 'service'] },
      client: str,
      multiplier: num,
      previous: num,
      reason: str,
      at: epochMs,
    },
    ['scope', 'multiplier', 'previous', 'reason', 'at'],
  ),
  SecuritySnapshot: obj({
    enabled: {
      type: 'boolean',
      description:
        'false while the instance has not built its security module; the figures are then empty',
    },
    score: nullable('number', { description: 'The score last evaluated' }),
    threats: int,
    rateLimited: int,
    blocked: int,
    activeBans: int,
    storeDown: bool,
  }),
  SecurityStreamEvent: {
    description:
      'The data of an `event: security`: at most 10 a second, the rest of that second counted in one `dropped` event (score crossings are always sent).',
    oneOf: [
      obj({ kind: { const: 'threat' }, at: epochMs, threat: ref('ThreatEvent') }),
      obj({ kind: { const: 'limits' }, at: epochMs, change: ref('LimitChange') }),
      obj({ kind: { const: 'ban' }, at: epochMs, ban: ref('Ban') }),
      obj({
        kind: { const: 'unban' },
        at: epochMs,
        client: str,
        reason: { type: 'string', enum: ['manual', 'expired'] },
      }),
      obj({ kind: { const: 'score' }, at: epochMs, low: bool, score: num, threshold: num }),
      obj({
        kind: { const: 'dropped' },
        at: epochMs,
        dropped: int,
        byKind: { type: 'object', propertyNames: eventKind, additionalProperties: int },
        threats: byCategory,
      }),
    ],
  },
};

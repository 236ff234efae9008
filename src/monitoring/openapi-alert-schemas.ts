// The schemas of the alerts endpoints in the OpenAPI document, after src/alerts/types.ts.
import {
  arr,
  bool,
  int,
  nullable,
  num,
  obj,
  ref,
  type Schema,
  str,
  time,
} from './openapi-builders.js';

const labels: Schema = { type: 'object', additionalProperties: str };
const state: Schema = {
  type: 'string',
  enum: ['inactive', 'pending', 'firing', 'resolved', 'nodata', 'error'],
};
const severity: Schema = { type: 'string', enum: ['info', 'warning', 'critical'] };
const matcher = obj(
  { name: str, value: str, op: { type: 'string', enum: ['=', '!=', '=~', '!~'], default: '=' } },
  ['name', 'value'],
);
/** A time as the alerts module takes it: an ISO 8601 string or epoch milliseconds. */
const instant: Schema = { oneOf: [time, { type: 'number' }] };
const counts = (names: string[]): Schema => obj(Object.fromEntries(names.map((n) => [n, int])));

/** @internal The alerts schemas of the document's components, by name. */
export const ALERT_SCHEMAS: Record<string, Schema> = {
  AlertState: state,
  AlertSeverity: severity,
  LabelMatcher: matcher,
  Alert: obj(
    {
      fingerprint: { type: 'string', description: 'A hash of the rule name and the labels' },
      rule: str,
      state: ref('AlertState'),
      severity: ref('AlertSeverity'),
      labels,
      annotations: { type: 'object', additionalProperties: str },
      value: nullable('number'),
      verdict: obj({ breached: bool, value: num, expected: num, score: num, reason: str }, [
        'breached',
        'value',
      ]),
      activeAt: time,
      firingAt: time,
      resolvedAt: time,
      lastEvaluatedAt: time,
      error: str,
      acknowledged: obj({ by: str, at: time, comment: str }, ['by', 'at']),
      silencedBy: arr(str),
      inhibitedBy: arr(str),
      deliveries: {
        type: 'object',
        additionalProperties: obj(
          {
            notification: str,
            kind: { type: 'string', enum: ['firing', 'repeat', 'resolved', 'acknowledged'] },
            outcome: { type: 'string', enum: ['pending', 'success', 'failure'] },
            at: time,
            error: str,
          },
          ['notification', 'kind', 'outcome', 'at'],
        ),
      },
    },
    [
      'fingerprint',
      'rule',
      'state',
      'severity',
      'labels',
      'annotations',
      'value',
      'lastEvaluatedAt',
    ],
  ),
  AlertTransition: obj({
    fingerprint: str,
    rule: str,
    from: ref('AlertState'),
    to: ref('AlertState'),
    at: time,
    severity: ref('AlertSeverity'),
    labels,
    value: nullable('number'),
  }),
  AlertList: obj({
    firing: arr(ref('Alert')),
    pending: arr(ref('Alert')),
    silenced: { ...arr(ref('Alert')), description: 'Alerts a silence mutes, whatever their state' },
    other: { ...arr(ref('Alert')), description: 'Resolved, nodata and error alerts' },
    history: {
      ...arr(ref('AlertTransition')),
      description: 'The latest transitions, newest first',
    },
  }),
  Silence: obj(
    {
      id: str,
      matchers: arr(ref('LabelMatcher')),
      startsAt: time,
      endsAt: time,
      createdBy: str,
      comment: str,
      status: { type: 'string', enum: ['pending', 'active', 'expired'] },
    },
    ['id', 'matchers', 'startsAt', 'endsAt', 'createdBy', 'comment'],
  ),
  SilenceList: obj({ silences: arr(ref('Silence')) }),
  SilenceInput: obj(
    {
      matchers: { ...arr(ref('LabelMatcher')), minItems: 1, maxItems: 32 },
      startsAt: { ...instant, description: 'Default: now' },
      endsAt: instant,
      duration: {
        oneOf: [
          { type: 'number', description: 'seconds' },
          { type: 'string', examples: ['1h'] },
        ],
      },
      createdBy: { type: 'string', default: 'monitoring' },
      comment: str,
    },
    ['matchers'],
  ),
  SilenceResult: obj({ ok: bool, silence: ref('Silence') }),
  AcknowledgeInput: obj({ by: { type: 'string', default: 'monitoring' }, comment: str }, []),
  AcknowledgeResult: obj({ ok: bool, alert: ref('Alert') }),
  AlertRuleSummary: obj(
    {
      name: str,
      watch: { type: 'string', description: "The source's name, or 'function'" },
      description: str,
      definition: {
        type: 'object',
        description: 'The rule as given (a watch function is left out)',
      },
      states: counts(['inactive', 'pending', 'firing', 'resolved', 'nodata', 'error']),
      lastEvaluatedAt: time,
      lastDurationMs: num,
      lastError: str,
      deliveryFailures: int,
    },
    ['name', 'watch', 'definition', 'states', 'deliveryFailures'],
  ),
  AlertRules: obj({ rules: arr(ref('AlertRuleSummary')) }),
  Recommendation: obj({
    id: { type: 'string', description: '<kind>:<subject>, stable while the problem lasts' },
    kind: {
      type: 'string',
      enum: [
        'dominant-query',
        'cache-slow-loader',
        'queue-ageing',
        'event-loop-blocker',
        'persistent-bottleneck',
      ],
    },
    severity: ref('AlertSeverity'),
    title: str,
    advice: str,
    evidence: { type: 'object', additionalProperties: { type: ['number', 'string'] } },
  }),
  Recommendations: obj({
    at: time,
    recommendations: arr(ref('Recommendation')),
    figures: obj({ performance: bool, cache: bool, tasks: bool }),
  }),
  AlertsSnapshot: obj({
    enabled: {
      type: 'boolean',
      description:
        'false while the instance has not built its alerts module; the counts are then 0',
    },
    total: int,
    byState: counts(['pending', 'firing', 'resolved', 'nodata', 'error']),
    firingBySeverity: counts(['critical', 'warning', 'info']),
    silenced: int,
    acknowledged: int,
  }),
  AlertStreamEvent: obj({ transition: ref('AlertTransition'), alert: ref('Alert') }),
};

// The alerts endpoints of the route table: what the router registers and the document describes.
import { int, json, ref, type Schema } from './openapi-builders.js';
import type { RouteSpec } from './route-spec.js';

const notEnabled: [string, string, Schema] = [
  'The alerts module is not enabled on this instance.',
  json,
  ref('Error'),
];
const repeatable = (values: string[]): Schema => ({
  type: 'array',
  items: { type: 'string', enum: values },
});

/** @internal The alerts endpoints that read: listed with the other data endpoints. */
export const ALERT_READ_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/alerts',
    operationId: 'alerts',
    summary:
      'Alerts now, split into firing, pending, silenced and other (each alert in one list, most severe first), and the latest transitions.',
    tag: 'alerts',
    auth: true,
    query: [
      {
        name: 'state',
        description:
          'Only alerts in these states (repeatable, or comma-separated). Default: every state but inactive.',
        schema: repeatable(['inactive', 'pending', 'firing', 'resolved', 'nodata', 'error']),
      },
      {
        name: 'severity',
        description: 'Only alerts of these severities (repeatable, or comma-separated).',
        schema: repeatable(['info', 'warning', 'critical']),
      },
      {
        name: 'label',
        description:
          'Only alerts carrying this label value, as `name=value` (repeatable: every one must match). Also narrows the history.',
        schema: { type: 'array', items: { type: 'string', pattern: '^[^=]+=' } },
      },
      {
        name: 'limit',
        description: 'How many transitions of the history to return.',
        schema: { ...int, maximum: 1000, default: 50 },
      },
    ],
    responses: {
      '200': ['The alerts and the history.', json, ref('AlertList')],
      '400': ['An invalid filter.', json, ref('Error')],
      '501': notEnabled,
    },
  },
  {
    method: 'get',
    path: '/alerts/silences',
    operationId: 'alertSilences',
    summary: 'Every silence of the deployment with its status (expired ones are kept five days).',
    tag: 'alerts',
    auth: true,
    responses: {
      '200': ['The silences, latest start first.', json, ref('SilenceList')],
      '501': notEnabled,
    },
  },
  {
    method: 'get',
    path: '/alerts/rules',
    operationId: 'alertRules',
    summary: 'The rules: definitions, alerts per state, last evaluation and delivery failures.',
    tag: 'alerts',
    auth: true,
    responses: { '200': ['The rules.', json, ref('AlertRules')], '501': notEnabled },
  },
  {
    method: 'get',
    path: '/alerts/recommendations',
    operationId: 'alertRecommendations',
    summary:
      'Advice from the measured figures (dominant SQL statement, slow cache loader, ageing queue, event-loop blocker, persistent bottleneck), most severe first.',
    tag: 'alerts',
    auth: true,
    responses: {
      '200': ['The recommendations.', json, ref('Recommendations')],
      '501': notEnabled,
    },
  },
];

/** @internal The alerts actions: authenticated and refused when sent from another site. */
export const ALERT_ACTION_ROUTES: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/alerts/:fingerprint/ack',
    operationId: 'acknowledgeAlert',
    summary:
      'Acknowledges a pending or firing alert for the whole deployment: its escalation stops until it resolves.',
    tag: 'alerts',
    auth: true,
    body: {
      description: '`by` defaults to `monitoring`.',
      schema: ref('AcknowledgeInput'),
      required: false,
    },
    responses: {
      '200': ['Acknowledged.', json, ref('AcknowledgeResult')],
      '400': ['An invalid body.', json, ref('Error')],
      '404': ['No alert has this fingerprint.', json, ref('Error')],
      '409': ['The alert is neither pending nor firing.', json, ref('Error')],
      '501': notEnabled,
    },
  },
  {
    method: 'post',
    path: '/alerts/silences',
    operationId: 'createAlertSilence',
    summary: 'Mutes the alerts matching every matcher, from `startsAt` (now) to `endsAt`.',
    tag: 'alerts',
    auth: true,
    body: {
      description: 'Give `endsAt` or `duration`; `createdBy` defaults to `monitoring`.',
      schema: ref('SilenceInput'),
      required: true,
    },
    responses: {
      '201': ['Created.', json, ref('SilenceResult')],
      '400': ['An invalid silence; `error.field` names what.', json, ref('Error')],
      '501': notEnabled,
    },
  },
  {
    method: 'delete',
    path: '/alerts/silences/:id',
    operationId: 'expireAlertSilence',
    summary: 'Ends a silence now (one not started yet is deleted).',
    tag: 'alerts',
    auth: true,
    responses: {
      '200': ['Expired.', json, ref('ActionResult')],
      '404': ['No silence has this id.', json, ref('Error')],
      '409': ['The silence has expired already.', json, ref('Error')],
      '501': notEnabled,
    },
  },
];

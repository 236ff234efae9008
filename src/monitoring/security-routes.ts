// The security endpoints of the route table: what the router registers and the document describes.
import { int, json, ref, type Schema } from './openapi-builders.js';
import type { RouteSpec } from './route-spec.js';

const notEnabled: [string, string, Schema] = [
  'The security module is not enabled on this instance.',
  json,
  ref('Error'),
];

/** @internal The most clients `GET /security/monitoring?top=` lists. */
export const TOP_MAX = 100;
/** @internal The riskiest clients listed unless `top` says otherwise. */
export const TOP_DEFAULT = 10;

/** @internal The security endpoint that reads: listed with the other data endpoints. */
export const SECURITY_READ_ROUTES: readonly RouteSpec[] = [
  {
    method: 'get',
    path: '/security/monitoring',
    operationId: 'securityMonitoring',
    summary:
      'The security score and its components, threats by category (totals over the score window, and per minute over the last hour), the riskiest clients, failed logins, rate-limit policies and the pressure multiplier, limit changes and active bans.',
    tag: 'security',
    auth: true,
    query: [
      {
        name: 'top',
        description: 'How many of the riskiest clients to list.',
        schema: { ...int, minimum: 1, maximum: TOP_MAX, default: TOP_DEFAULT },
      },
    ],
    responses: {
      '200': ['The report.', json, ref('SecurityReport')],
      '400': ['An invalid `top`; `error.field` names it.', json, ref('Error')],
      '501': notEnabled,
    },
  },
];

/** @internal The security actions: authenticated and refused when sent from another site. */
export const SECURITY_ACTION_ROUTES: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/security/bans',
    operationId: 'banClient',
    summary:
      'Bans a client (an address, an IPv6 /64 or a CIDR range) for a while, on every instance sharing the ban store.',
    tag: 'security',
    auth: true,
    body: {
      description:
        'An IPv6 address, or a range no wider than one client, bans its whole client prefix (/64 by default).',
      schema: ref('BanInput'),
      required: true,
    },
    responses: {
      '201': ['Banned.', json, ref('BanResult')],
      '400': ['An invalid ban; `error.field` names what.', json, ref('Error')],
      '501': notEnabled,
    },
  },
  {
    method: 'delete',
    path: '/security/bans/:client',
    operationId: 'unbanClient',
    summary:
      'Lifts the ban of a client (URL-encoded: `2001:db8::%2F64`), as written when it was banned.',
    tag: 'security',
    auth: true,
    responses: {
      '200': ['Whether a ban was lifted.', json, ref('UnbanResult')],
      '501': notEnabled,
    },
  },
];

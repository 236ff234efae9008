import type { Context } from 'hono';
import type { Analytics } from '../../analytics/events/analytics.js';
import type { MetricsHistory } from '../../analytics/history/metrics-history.js';
import type { Duration } from '../../core/duration.js';
import { EnterpriseError } from '../../core/errors.js';
import { clusterScope } from '../cluster-scope.js';
import { MonitoringRequestError } from '../errors.js';
import type { MonitoredInstance } from '../monitored-instance.js';
import { badRequest } from '../request-body.js';
import { jsonResponse as json } from '../responses.js';
import type { HandlerContext, Handlers } from './types.js';

const HOUR_MS = 3_600_000;
/** Longer values are refused before they reach a module. */
const MAX_PARAMETER = 2_000;

/**
 * @internal The metrics history and analytics endpoints. Each answers 501 while the instance has
 * not built the module (monitoring reads it, never builds it). The modules are reached through
 * the instance only, and their errors recognised by code, so the monitoring entry loads none of
 * their code.
 */
export function analyticsHandlers({
  enterprise,
}: HandlerContext): Handlers<
  | 'performanceHistory'
  | 'analyticsOverview'
  | 'analyticsEvents'
  | 'analyticsFunnels'
  | 'analyticsRetention'
> {
  return {
    performanceHistory: (c) => {
      const cluster = clusterScope(enterprise, parameter(c, 'scope'));
      // The deployment's history is the cluster view's own store: this instance's history need
      // not be built for it.
      const history = cluster ?? moduleOf(enterprise, 'history');
      const operation = parameter(c, 'operation');
      const metric = parameter(c, 'metric');
      if ((operation === undefined) === (metric === undefined)) {
        throw badRequest('give either operation or metric', 'operation');
      }
      const to = parameter(c, 'to') ?? enterprise.config.clock.epochNow();
      const from = parameter(c, 'from') ?? fromBefore(to);
      const labelsText = parameter(c, 'labels');
      const range = {
        from,
        to,
        step: stepOf(parameter(c, 'step') ?? '1m'),
        ...(labelsText === undefined ? {} : { labels: labelsOf(labelsText) }),
      };
      return answer(
        metric === undefined
          ? history.query({ operation: operation!, ...range })
          : history.queryMetric({ metric, ...range }),
      );
    },
    analyticsOverview: () => answer(moduleOf(enterprise, 'analytics').overview()),
    analyticsEvents: (c) => {
      const analytics = moduleOf(enterprise, 'analytics');
      const events = parameter(c, 'events');
      const step = parameter(c, 'step');
      const limit = parameter(c, 'limit');
      return answer(
        analytics.events({
          ...rangeOf(c),
          ...(step === undefined ? {} : { step: step as 'hour' }),
          ...(events === undefined ? {} : { events: events.split(',') }),
          ...(limit === undefined ? {} : { limit: numberOf(limit) as number }),
        }),
      );
    },
    analyticsFunnels: (c) => {
      const analytics = moduleOf(enterprise, 'analytics');
      const name = parameter(c, 'funnel');
      const range = rangeOf(c);
      return answer(
        (name === undefined
          ? analytics.funnels(range)
          : analytics.funnel(name, range).then((one) => [one])
        ).then((funnels) => ({ funnels })),
      );
    },
    analyticsRetention: (c) => {
      const analytics = moduleOf(enterprise, 'analytics');
      const weeks = parameter(c, 'weeks');
      const to = parameter(c, 'to');
      return answer(
        analytics.retention({
          ...(weeks === undefined ? {} : { weeks: numberOf(weeks) as number }),
          ...(to === undefined ? {} : { to }),
        }),
      );
    },
  };
}

/** The module if the instance has built it; a 501 otherwise. */
function moduleOf<Name extends 'analytics' | 'history'>(
  enterprise: MonitoredInstance,
  name: Name,
): Name extends 'analytics' ? Analytics : MetricsHistory {
  const module = enterprise.peek(name);
  if (module === undefined) {
    throw new MonitoringRequestError(
      501,
      'E_MODULE_NOT_ENABLED',
      `the ${name} module is not enabled on this instance`,
    );
  }
  return module as Name extends 'analytics' ? Analytics : MetricsHistory;
}

/** A query parameter, `undefined` when absent; an over-long one is a 400 naming it. */
function parameter(c: Context, name: string): string | undefined {
  const value = c.req.query(name);
  if (value !== undefined && value.length > MAX_PARAMETER) {
    throw badRequest(`${name} is at most ${MAX_PARAMETER} characters`, name);
  }
  return value;
}

function rangeOf(c: Context): { from?: string; to?: string } {
  const from = parameter(c, 'from');
  const to = parameter(c, 'to');
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

/** Digits as a number; anything else is passed on as given, for the module to name it. */
function numberOf(value: string): number | string {
  return /^\d{1,9}$/.test(value) ? Number(value) : value;
}

/** Seconds as digits, or a duration with its unit (`'5m'`); the store checks it and names `step`. */
function stepOf(value: string): Duration {
  return /^\d{1,9}$/.test(value) ? Number(value) : (value as Duration);
}

/** One hour before `to`; 0 when `to` does not parse, so that the store names `to`. */
function fromBefore(to: string | number): number {
  const ms = typeof to === 'number' ? to : /^\d+$/.test(to) ? Number(to) : Date.parse(to);
  return Number.isFinite(ms) ? Math.max(0, ms - HOUR_MS) : 0;
}

/** `k=v,k2=v2` or a JSON object of strings. */
function labelsOf(text: string): Record<string, string> {
  const expected = 'labels as k=v,k2=v2 or a JSON object of strings';
  if (text.trimStart().startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw badRequest(`labels is not valid JSON: expected ${expected}`, 'labels');
    }
    if (
      value === null ||
      typeof value !== 'object' ||
      Array.isArray(value) ||
      Object.values(value).some((v) => typeof v !== 'string')
    ) {
      throw badRequest(`labels is invalid: expected ${expected}`, 'labels');
    }
    return value as Record<string, string>;
  }
  const labels: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) throw badRequest(`labels is invalid: expected ${expected}`, 'labels');
    labels[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return labels;
}

/**
 * The JSON answer of a module's query: a query error is a 400 naming its parameter, a store that
 * did not answer a 503.
 */
async function answer(query: Promise<unknown>): Promise<Response> {
  try {
    return json(await query);
  } catch (error) {
    if (error instanceof EnterpriseError) {
      if (error.code === 'E_ANALYTICS_QUERY' || error.code === 'E_HISTORY_QUERY') {
        const field = error.context.parameter;
        throw badRequest(error.message, typeof field === 'string' ? field : 'query');
      }
      if (
        error.code === 'E_ANALYTICS_STORE' ||
        error.code === 'E_HISTORY_STORE' ||
        error.code === 'E_CLUSTER_UNAVAILABLE'
      ) {
        throw new MonitoringRequestError(503, 'E_UNAVAILABLE', error.message);
      }
    }
    throw error;
  }
}

// What the alerts endpoints read from a request (filters, bodies) and the typed errors they
// answer with. The alerts module is only imported for its types: the monitoring entry does not load
// it, and a router on an instance without alerts answers 501 before reading anything.
import type { Context } from 'hono';
import type { AlertFilter } from '../alerts/alert-view.js';
import type { SilenceInput } from '../alerts/silence.js';
import type { AlertSeverity, AlertState, AlertTransition } from '../alerts/types.js';
import { badRequest } from './request-body.js';

/** Who acknowledges or silences from the router when the request does not say. */
export const DEFAULT_ACTOR = 'monitoring';

const STATES: readonly AlertState[] = [
  'inactive',
  'pending',
  'firing',
  'resolved',
  'nodata',
  'error',
];
const SEVERITIES: readonly AlertSeverity[] = ['info', 'warning', 'critical'];
/** Transitions `GET /alerts` returns unless `limit` says otherwise. */
const HISTORY_DEFAULT = 50;
/** @internal The most transitions `GET /alerts` returns (and reads, to filter them). */
export const HISTORY_MAX = 1000;
/** Matchers are compiled into regular expressions: bound what one request may ask to compile. */
const MAX_MATCHERS = 32;
const MAX_MATCHER_VALUE = 1024;
const MAX_BY = 200;
const MAX_COMMENT = 2000;

/** @internal The filter and history length of `GET /alerts`; anything invalid is a 400. */
export function alertQuery(c: Context): { filter: AlertFilter; limit: number } {
  const filter: AlertFilter = {};
  const states = listParam(c, 'state', STATES);
  if (states !== undefined) filter.state = states;
  const severities = listParam(c, 'severity', SEVERITIES);
  if (severities !== undefined) filter.severity = severities;
  const labels: Record<string, string> = {};
  for (const pair of c.req.queries('label') ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw badRequest(`label=${JSON.stringify(pair)} must be name=value`, 'label');
    const name = pair.slice(0, at);
    const value = pair.slice(at + 1);
    if (name in labels && labels[name] !== value) {
      // Every label filter must match: two values of one label can match nothing.
      throw badRequest(`label "${name}" is given twice with different values`, 'label');
    }
    labels[name] = value;
  }
  if (Object.keys(labels).length > 0) filter.labels = labels;
  const raw = c.req.query('limit');
  let limit = HISTORY_DEFAULT;
  if (raw !== undefined) {
    limit = Number(raw);
    if (!/^\d{1,4}$/.test(raw) || limit > HISTORY_MAX) {
      throw badRequest(`limit must be a whole number from 0 to ${HISTORY_MAX}`, 'limit');
    }
  }
  return { filter, limit };
}

function listParam<T extends string>(
  c: Context,
  name: string,
  allowed: readonly T[],
): T[] | undefined {
  const given = c.req.queries(name);
  if (given === undefined) return undefined;
  const values = given.flatMap((value) => value.split(',')).map((value) => value.trim());
  for (const value of values) {
    if (!allowed.includes(value as T)) {
      throw badRequest(`${name} must be one of ${allowed.join(', ')}`, name);
    }
  }
  return values as T[];
}

/** @internal Whether a transition of the history passes the severity and label filters. */
export function transitionMatches(transition: AlertTransition, filter: AlertFilter): boolean {
  if (filter.severity !== undefined && ![filter.severity].flat().includes(transition.severity)) {
    return false;
  }
  const labels = filter.labels ?? {};
  return Object.entries(labels).every(([name, value]) => transition.labels[name] === value);
}

/** @internal `{ by, comment }` of an acknowledgement; `by` defaults to {@link DEFAULT_ACTOR}. */
export function acknowledgementOf(body: Record<string, unknown>): {
  by: string;
  comment?: string;
} {
  const by = text(body, 'by', MAX_BY) ?? DEFAULT_ACTOR;
  const comment = text(body, 'comment', MAX_COMMENT);
  return comment === undefined ? { by } : { by, comment };
}

/**
 * @internal The silence a body asks for, with `createdBy` defaulting to {@link DEFAULT_ACTOR}. The
 * alerts module validates the rest (and names the field when it refuses).
 */
export function silenceInputOf(body: Record<string, unknown>): SilenceInput {
  const { matchers } = body;
  if (Array.isArray(matchers)) {
    if (matchers.length > MAX_MATCHERS) {
      throw badRequest(`a silence takes at most ${MAX_MATCHERS} matchers`, 'matchers');
    }
    for (const [i, matcher] of matchers.entries()) {
      const value = (matcher as { value?: unknown } | null)?.value;
      if (typeof value === 'string' && value.length > MAX_MATCHER_VALUE) {
        throw badRequest(
          `a matcher value is at most ${MAX_MATCHER_VALUE} characters`,
          `matchers[${i}].value`,
        );
      }
    }
  }
  const input: Record<string, unknown> = {
    matchers,
    createdBy: text(body, 'createdBy', MAX_BY) ?? DEFAULT_ACTOR,
  };
  for (const key of ['startsAt', 'endsAt', 'duration'] as const) {
    if (body[key] !== undefined && body[key] !== null) input[key] = body[key];
  }
  const comment = text(body, 'comment', MAX_COMMENT);
  if (comment !== undefined) input.comment = comment;
  return input as unknown as SilenceInput;
}

/** A string field of the body, trimmed; `undefined` when absent, null or blank. */
function text(body: Record<string, unknown>, key: string, max: number): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`${key} must be a string`, key);
  const trimmed = value.trim();
  if (trimmed.length > max) throw badRequest(`${key} is at most ${max} characters`, key);
  return trimmed === '' ? undefined : trimmed;
}

/**
 * @internal The router's answer to an error of the alerts module: a refused silence or
 * acknowledgement (`E_ALERT_SILENCE`) is a 400 naming its field; anything else goes on.
 */
export function alertsRequestError(error: unknown): unknown {
  const { code, context, message } = (error ?? {}) as {
    code?: unknown;
    context?: { field?: unknown };
    message?: unknown;
  };
  if (code !== 'E_ALERT_SILENCE' || typeof message !== 'string') return error;
  const field = typeof context?.field === 'string' ? context.field : 'body';
  return badRequest(message, field);
}

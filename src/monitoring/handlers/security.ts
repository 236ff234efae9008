import type { Context } from 'hono';
import type { Duration } from '../../core/duration.js';
import type { Security } from '../../security/security.js';
import { MonitoringRequestError } from '../errors.js';
import type { MonitoredInstance } from '../monitored-instance.js';
import { badRequest, jsonBody } from '../request-body.js';
import { jsonResponse as json } from '../responses.js';
import { TOP_DEFAULT, TOP_MAX } from '../security-routes.js';
import type { HandlerContext, Handlers } from './types.js';

/** A client is an address or a CIDR range: far shorter than this. */
const MAX_CLIENT = 100;
const MAX_REASON = 500;

/**
 * @internal The security endpoints: the report, and the actions (ban, unban). Each answers 501
 * while the instance has not built its security module: monitoring reads it, never builds it. The
 * security module is reached through the instance only (its methods), so the monitoring entry
 * loads none of its code.
 */
export function securityHandlers({
  enterprise,
  log,
}: HandlerContext): Handlers<'securityMonitoring' | 'banClient' | 'unbanClient'> {
  return {
    securityMonitoring: (c) => {
      const security = securityOf(enterprise);
      return json(security.report(topOf(c)));
    },
    banClient: async (c) => {
      const security = securityOf(enterprise);
      const { client, duration, reason } = banInputOf(await jsonBody(c.req.raw, true));
      let ban: Awaited<ReturnType<Security['ban']>>;
      try {
        ban = await security.ban(client, duration, reason);
      } catch (error) {
        throw securityRequestError(error);
      }
      log.info(
        { action: 'ban-client', client: ban.client, until: ban.until, reason },
        'client banned from the monitoring router',
      );
      return json({ ok: true, ban }, 201);
    },
    unbanClient: async (c) => {
      const security = securityOf(enterprise);
      const client = c.req.param('client') ?? '';
      if (client.length > MAX_CLIENT) {
        throw badRequest(`client is at most ${MAX_CLIENT} characters`, 'client');
      }
      const removed = await security.unban(client);
      if (removed) {
        log.info({ action: 'unban-client', client }, 'client unbanned from the monitoring router');
      }
      return json({ ok: true, client, removed });
    },
  };
}

/** The security module if the instance has built it; a 501 otherwise. */
function securityOf(enterprise: MonitoredInstance): Security {
  const security = enterprise.peek('security');
  if (security === undefined) {
    throw new MonitoringRequestError(
      501,
      'E_MODULE_NOT_ENABLED',
      'the security module is not enabled on this instance',
    );
  }
  return security;
}

function topOf(c: Context): number {
  const raw = c.req.query('top');
  if (raw === undefined) return TOP_DEFAULT;
  const top = Number(raw);
  if (!/^\d{1,3}$/.test(raw) || top < 1 || top > TOP_MAX) {
    throw badRequest(`top must be a whole number from 1 to ${TOP_MAX}`, 'top');
  }
  return top;
}

/**
 * `{ client, duration, reason }` of a ban, each present and of the right type; the security module
 * then checks the client is an address or a range and the duration is positive.
 */
function banInputOf(body: Record<string, unknown>): {
  client: string;
  duration: Duration;
  reason: string;
} {
  const { client, duration, reason } = body;
  if (typeof client !== 'string' || client.trim() === '') {
    throw badRequest('client is required: an IP address or a CIDR range', 'client');
  }
  if (client.length > MAX_CLIENT) {
    throw badRequest(`client is at most ${MAX_CLIENT} characters`, 'client');
  }
  if (
    !(typeof duration === 'number' && Number.isFinite(duration)) &&
    !(typeof duration === 'string' && duration.trim() !== '' && duration.length <= 32)
  ) {
    throw badRequest(
      "duration is required: a number of seconds or a string with a unit ('30m', '1h', '7d')",
      'duration',
    );
  }
  if (typeof reason !== 'string' || reason.trim() === '') {
    throw badRequest('reason is required: why the client is banned', 'reason');
  }
  if (reason.length > MAX_REASON) {
    throw badRequest(`reason is at most ${MAX_REASON} characters`, 'reason');
  }
  return {
    client: client.trim(),
    // The security module parses it and names `duration` when it cannot.
    duration: (typeof duration === 'string' ? duration.trim() : duration) as Duration,
    reason: reason.trim(),
  };
}

/**
 * The router's answer to an error of the security module: an argument it refuses
 * (`E_SECURITY_CONFIG`, an invalid client or duration) is a 400 naming its field; anything else
 * goes on.
 */
function securityRequestError(error: unknown): unknown {
  const { code, context, message } = (error ?? {}) as {
    code?: unknown;
    context?: { field?: unknown };
    message?: unknown;
  };
  if (code !== 'E_SECURITY_CONFIG' || typeof message !== 'string') return error;
  const field = typeof context?.field === 'string' ? context.field : 'body';
  return badRequest(message, field);
}

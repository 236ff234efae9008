import type { Logger } from '../core/logger.js';
import { MonitoringRequestError } from './errors.js';
import { jsonResponse as json } from './responses.js';

/**
 * @internal The JSON error answer of `error`; anything but a deliberate error is a 500 without
 * details.
 */
export function errorResponse(error: unknown, log: Logger, requestId: string): Response {
  if (error instanceof MonitoringRequestError) {
    const body =
      error.field === undefined
        ? { code: error.code, message: error.message }
        : { code: error.code, message: error.message, field: error.field };
    return json({ error: body }, error.status, { ...error.headers });
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof code === 'string' && typeof message === 'string' && code.startsWith('E_')) {
    if (code === 'E_INVALID_ARGUMENT') {
      return json({ error: { code: 'E_BAD_REQUEST', message } }, 400);
    }
    if (code === 'E_LIFECYCLE') {
      return json({ error: { code: 'E_UNAVAILABLE', message } }, 503);
    }
    if (/NOT_FOUND|UNKNOWN/.test(code)) {
      return json({ error: { code: 'E_NOT_FOUND', message } }, 404);
    }
    if (code === 'E_TASK_BACKEND' || code === 'E_CACHE_TIER') {
      // A store that cannot be reached: the details (hosts, commands) go to the log only.
      log.warn({ err: error, requestId }, 'a monitoring request found a store unreachable');
      return json(
        {
          error: { code: 'E_UNAVAILABLE', message: 'a backing store is unreachable; retry later' },
        },
        503,
      );
    }
  }
  log.error({ err: error, requestId }, 'a monitoring request failed');
  return json(
    {
      error: {
        code: 'E_INTERNAL',
        message: `internal error; the logs hold the details under request id ${requestId}`,
      },
    },
    500,
  );
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { MonitoringConfigError, MonitoringRequestError } from './errors.js';

/**
 * Who may read the monitoring data and run its actions: a bearer token (compared in constant time
 * with `Authorization: Bearer <token>`), or a hook that decides from the request.
 *
 * @example
 * ```ts
 * const byToken: MonitoringAuth = process.env.MONITORING_TOKEN!;
 * const bySession: MonitoringAuth = async (request) => (await sessions.fromCookie(request.headers.get('cookie')))?.isAdmin === true;
 * ```
 */
export type MonitoringAuth = string | ((request: Request) => boolean | Promise<boolean>);

const CHALLENGE = 'Bearer realm="monitoring"';

/** SHA-256 of the text: equal-length inputs for `timingSafeEqual`, whatever the token's length. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** The bearer token of `request`, `undefined` without one. */
function bearer(request: Request): string | undefined {
  const header = request.headers.get('authorization');
  if (header === null) return undefined;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return match?.[1];
}

/**
 * @internal Builds the check run before every protected endpoint. It resolves when the request may
 * go on and throws a {@link MonitoringRequestError} otherwise:
 * - token: 401 with `WWW-Authenticate: Bearer` without a token or with a wrong one;
 * - hook: `false` answers 401 (with the challenge) when the request carries no `Authorization`
 *   header — credentials are missing, so the dashboard asks for a token — and 403 when it carries
 *   one the hook refused. A hook that throws a `MonitoringRequestError` chooses the answer; any
 *   other throw is a 500.
 */
export function createAuthenticator(
  auth: MonitoringAuth | undefined,
): ((request: Request) => Promise<void>) | undefined {
  if (auth === undefined) return undefined;
  if (typeof auth === 'string') {
    if (auth.trim() === '' || /\s/.test(auth)) {
      throw new MonitoringConfigError(
        'E_MONITORING_CONFIG',
        'auth must be a non-empty token without whitespace, or a function',
        { option: 'auth' },
      );
    }
    const expected = digest(auth);
    return async (request) => {
      const token = bearer(request);
      if (token === undefined) {
        throw new MonitoringRequestError(401, 'E_UNAUTHORIZED', 'a bearer token is required', {
          'www-authenticate': CHALLENGE,
        });
      }
      if (!timingSafeEqual(digest(token), expected)) {
        throw new MonitoringRequestError(401, 'E_UNAUTHORIZED', 'the bearer token is invalid', {
          'www-authenticate': `${CHALLENGE}, error="invalid_token"`,
        });
      }
    };
  }
  if (typeof auth !== 'function') {
    throw new MonitoringConfigError(
      'E_MONITORING_CONFIG',
      'auth must be a token string or a function (request) => boolean | Promise<boolean>',
      { option: 'auth', type: typeof auth },
    );
  }
  return async (request) => {
    const allowed = await auth(request);
    if (allowed === true) return;
    if (request.headers.has('authorization')) {
      throw new MonitoringRequestError(
        403,
        'E_FORBIDDEN',
        'these credentials may not access monitoring',
      );
    }
    throw new MonitoringRequestError(401, 'E_UNAUTHORIZED', 'credentials are required', {
      'www-authenticate': CHALLENGE,
    });
  };
}

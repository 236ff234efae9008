import { MonitoringRequestError } from './errors.js';

/**
 * @internal Refuses actions a browser sends from another site: a page elsewhere must not be able
 * to make a dashboard user's browser purge a queue. `Sec-Fetch-Site` decides when the browser
 * sends it; otherwise a present `Origin` must name the request's host.
 */
export function checkSameOrigin(request: Request): void {
  const site = request.headers.get('sec-fetch-site');
  if (site !== null) {
    if (site === 'same-origin' || site === 'none') return;
    throw new MonitoringRequestError(
      403,
      'E_FORBIDDEN',
      'actions may not be sent from another site',
    );
  }
  const origin = request.headers.get('origin');
  if (origin === null || origin === 'null') return;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw new MonitoringRequestError(403, 'E_FORBIDDEN', 'the Origin header is invalid');
  }
  const hosts = [
    request.headers.get('host'),
    request.headers.get('x-forwarded-host'),
    safeHost(request.url),
  ];
  if (!hosts.includes(originHost)) {
    throw new MonitoringRequestError(
      403,
      'E_FORBIDDEN',
      'actions may not be sent from another site',
    );
  }
}

function safeHost(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

import type { Alerts } from '../../alerts/alerts.js';
import type { Alert } from '../../alerts/types.js';
import { RecommendationReader } from '../alert-recommendations.js';
import {
  acknowledgementOf,
  alertQuery,
  alertsRequestError,
  HISTORY_MAX,
  silenceInputOf,
  transitionMatches,
} from '../alert-requests.js';
import { MonitoringRequestError } from '../errors.js';
import type { MonitoredInstance } from '../monitored-instance.js';
import { jsonBody } from '../request-body.js';
import { jsonResponse as json } from '../responses.js';
import type { HandlerContext, Handlers } from './types.js';

/**
 * @internal The alerts endpoints: the alerts and their history, silences, rules and
 * recommendations, and the actions (acknowledge, silence, expire a silence). Each answers 501
 * while the instance has not built its alerts module: monitoring reads it, never builds it.
 */
export function alertHandlers({
  enterprise,
  log,
  readTimeoutMs,
  onReadError,
}: HandlerContext): Handlers<
  | 'alerts'
  | 'alertSilences'
  | 'alertRules'
  | 'alertRecommendations'
  | 'acknowledgeAlert'
  | 'createAlertSilence'
  | 'expireAlertSilence'
> {
  const recommendations = new RecommendationReader(enterprise, readTimeoutMs, onReadError);
  return {
    alerts: async (c) => {
      const alerts = alertsOf(enterprise);
      const { filter, limit } = alertQuery(c);
      const lists = partition(alerts.list(filter));
      // Filtered history is read whole and narrowed here: the store cannot filter.
      const narrowed = filter.severity !== undefined || filter.labels !== undefined;
      const history =
        limit === 0
          ? []
          : (await alerts.history(narrowed ? HISTORY_MAX : limit))
              .filter((transition) => transitionMatches(transition, filter))
              .slice(0, limit);
      return json({ ...lists, history });
    },
    alertSilences: async () => json({ silences: await alertsOf(enterprise).silences() }),
    alertRules: () => json({ rules: alertsOf(enterprise).rules() }),
    alertRecommendations: async () => {
      alertsOf(enterprise);
      return json(await recommendations.read());
    },
    acknowledgeAlert: async (c) => {
      const alerts = alertsOf(enterprise);
      const fingerprint = c.req.param('fingerprint') ?? '';
      const ack = acknowledgementOf(await jsonBody(c.req.raw, false));
      const alert = alerts.get(fingerprint);
      if (alert === undefined) {
        throw new MonitoringRequestError(
          404,
          'E_NOT_FOUND',
          `no alert has the fingerprint "${fingerprint}"`,
        );
      }
      if (alert.state !== 'pending' && alert.state !== 'firing') {
        throw new MonitoringRequestError(
          409,
          'E_CONFLICT',
          `the alert is ${alert.state}: only a pending or firing alert can be acknowledged`,
        );
      }
      let acknowledged: Alert;
      try {
        acknowledged = await alerts.acknowledge(fingerprint, ack);
      } catch (error) {
        throw alertsRequestError(error);
      }
      log.info(
        { action: 'acknowledge-alert', fingerprint, rule: alert.rule, by: ack.by },
        'alert acknowledged from the monitoring router',
      );
      return json({ ok: true, alert: acknowledged });
    },
    createAlertSilence: async (c) => {
      const alerts = alertsOf(enterprise);
      const input = silenceInputOf(await jsonBody(c.req.raw, true));
      let id: string;
      try {
        ({ id } = await alerts.silence(input));
      } catch (error) {
        throw alertsRequestError(error);
      }
      // Read back with its status, as the list shows it.
      const silence = (await alerts.silences()).find((s) => s.id === id);
      log.info(
        { action: 'create-silence', id, matchers: input.matchers, by: input.createdBy },
        'silence created from the monitoring router',
      );
      return json({ ok: true, silence }, 201);
    },
    expireAlertSilence: async (c) => {
      const alerts = alertsOf(enterprise);
      const id = c.req.param('id') ?? '';
      if (!(await alerts.expireSilence(id))) {
        const known = (await alerts.silences()).some((s) => s.id === id);
        if (!known) {
          throw new MonitoringRequestError(404, 'E_NOT_FOUND', `no silence has the id "${id}"`);
        }
        throw new MonitoringRequestError(
          409,
          'E_CONFLICT',
          `the silence "${id}" has expired already`,
        );
      }
      log.info({ action: 'expire-silence', id }, 'silence expired from the monitoring router');
      return json({ ok: true, id });
    },
  };
}

/** The alerts module if the instance has built it; a 501 otherwise. */
function alertsOf(enterprise: MonitoredInstance): Alerts {
  const alerts = enterprise.peek('alerts');
  if (alerts === undefined) {
    throw new MonitoringRequestError(
      501,
      'E_MODULE_NOT_ENABLED',
      'the alerts module is not enabled on this instance',
    );
  }
  return alerts;
}

/**
 * Each alert in one list: `silenced` takes every alert a silence mutes, whatever its state;
 * `firing` and `pending` the others in those states; `other` the rest (resolved, nodata, error, and
 * inactive when asked for). The order of `alerts.list()` (most severe first) is kept.
 */
function partition(
  alerts: readonly Alert[],
): Record<'firing' | 'pending' | 'silenced' | 'other', Alert[]> {
  const lists = {
    firing: [] as Alert[],
    pending: [] as Alert[],
    silenced: [] as Alert[],
    other: [] as Alert[],
  };
  for (const alert of alerts) {
    if (alert.silencedBy !== undefined && alert.silencedBy.length > 0) lists.silenced.push(alert);
    else if (alert.state === 'firing') lists.firing.push(alert);
    else if (alert.state === 'pending') lists.pending.push(alert);
    else lists.other.push(alert);
  }
  return lists;
}

import { EnterpriseError } from '../core/errors.js';

/**
 * A rule definition is invalid: an unknown value source, a negative duration, a condition with
 * no or several keys, a summary template naming an unknown field. `context.field` names the
 * offending field (`for`, `condition.anomaly.sensitivity`, `summary`...), `context.rule` the rule.
 *
 * @example
 * ```ts
 * alerts.rule({ name: 'slow', watch: 'operation.p95', condition: { above: 500 }, for: -1 });
 * // AlertRuleError (E_ALERT_RULE): rule "slow": for=-1 is not a duration ...
 * ```
 */
export class AlertRuleError extends EnterpriseError {
  constructor(
    message: string,
    context: { rule: string; field: string; value?: unknown },
    cause?: unknown,
  ) {
    super('E_ALERT_RULE', message, { context, cause });
  }
}

/**
 * A channel is misconfigured (a webhook URL that is not http(s), a duplicate channel name, an
 * escalation step naming an unknown channel), or a delivery failed: `context.channel` names the
 * channel, `context.status` carries the HTTP status or SMTP reply code when there was one.
 *
 * @example
 * ```ts
 * webhookChannel({ name: 'ops', url: 'ftp://example.com' }); // AlertChannelError (E_ALERT_CHANNEL)
 * ```
 */
export class AlertChannelError extends EnterpriseError {
  constructor(
    message: string,
    context: { channel: string; [key: string]: unknown },
    cause?: unknown,
  ) {
    super('E_ALERT_CHANNEL', message, { context, cause });
  }
}

/**
 * A silence or an acknowledgement was refused: no matcher, an end before its start, an unknown
 * fingerprint. `context.field` names what was wrong.
 *
 * @example
 * ```ts
 * await alerts.silence({ matchers: [], endsAt: '2h' }); // AlertSilenceError (E_ALERT_SILENCE)
 * ```
 */
export class AlertSilenceError extends EnterpriseError {
  constructor(message: string, context: { field: string; value?: unknown }) {
    super('E_ALERT_SILENCE', message, { context });
  }
}

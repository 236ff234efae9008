// The screener: reads a request field by field as a server would (decoded, normalised, lower
// case), hands each field to the rules its characters allow, and reports one finding per rule.
import type { ScreenedRequest, ThreatEvent } from '../types.js';
import { createAuthBurstTracker } from './auth-burst.js';
import { type CompiledRule, describeRules, resolveOptions } from './options.js';
import { requestChecks, scanHeaders, scanPath, scanQuery } from './request-parts.js';
import { type Engine, type Finding, Run } from './run.js';
import type { Screener, ScreenerOptions, ScreeningStats } from './types.js';

const NOTHING: ThreatEvent[] = Object.freeze([]) as unknown as ThreatEvent[];

/**
 * Creates a request screener: SQL injection, XSS, path traversal, command injection, scanners,
 * probes for sensitive files, malformed and oversized requests, and bursts of refused responses.
 * `screen` is synchronous and never throws for a request; options are checked here and throw
 * {@link SecurityConfigError} naming the option.
 *
 * @example
 * ```ts
 * const screener = createScreener({ mode: 'block', rules: { disable: ['probe.wordpress'] } });
 * const findings = screener.screen(
 *   { method: 'GET', path: '/search', query: "q=' or 1=1--", headers: {}, remoteAddress: '203.0.113.7' },
 *   '203.0.113.7',
 * );
 * // [{ category: 'sql-injection', rule: 'sqli.tautology', location: 'query:q', blocked: true, ... }, ...]
 * ```
 */
export function createScreener(options: ScreenerOptions = {}): Screener {
  const o = resolveOptions(options);
  const now = options.now ?? Date.now;
  const bursts =
    options.authBurst === false ? undefined : createAuthBurstTracker(options.authBurst ?? {}, now);
  const onRuleError = options.onRuleError;
  const counters = { screened: 0, findings: 0, blocked: 0, ruleErrors: 0 };
  const errorsByRule: Record<string, number> = {};
  let generation = 0;
  const engine: Engine = {
    o,
    fired: new Uint32Array(o.rules.length),
    memos: {
      userAgent: new Map<string, Finding[]>(),
      referer: new Map<string, Finding[]>(),
      forwardedFor: new Map<string, Finding[]>(),
    },
    now,
    ruleFailed(rule: CompiledRule, error: unknown) {
      counters.ruleErrors++;
      errorsByRule[rule.id] = (errorsByRule[rule.id] ?? 0) + 1;
      try {
        onRuleError?.(rule.id, error);
      } catch {
        // A failing listener must not fail the request either.
      }
    },
  };

  function screen(request: ScreenedRequest, client: string): ThreatEvent[] {
    counters.screened++;
    generation = generation === 0xffffffff ? 1 : generation + 1;
    if (generation === 1) engine.fired.fill(0);
    const run = new Run(engine, client, request.correlationId, generation);
    try {
      requestChecks(run, request);
      scanPath(run, request.path ?? '');
      if (request.query) scanQuery(run, request.query);
      scanHeaders(run, request.headers);
    } catch {
      // A request shaped unlike ScreenedRequest (a missing headers object...) is screened as far
      // as it could be; the screening never fails the request.
    }
    const events = run.events;
    if (events === null) return NOTHING;
    counters.findings += events.length;
    for (const event of events) if (event.blocked) counters.blocked++;
    return events;
  }

  return {
    screen,
    recordResponse(client, status, at) {
      const event = bursts?.recordResponse(client, status, at);
      if (event !== undefined) counters.findings++;
      return event;
    },
    rules: Object.freeze(describeRules(o.rules)),
    stats(): ScreeningStats {
      return { ...counters, ruleErrorsByRule: { ...errorsByRule } };
    },
  };
}

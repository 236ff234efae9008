// The report sections of modules the analytics module may not import: alerts and security. Built
// here, from what those modules answer, when the entry that loads them is loaded; the reports
// module sees only the ReportSection interface.
import type { Alerts } from '../alerts/alerts.js';
import type { ReportSection, SectionContent } from '../analytics/reports/types.js';
import type { Security } from '../security/security.js';

const round = (value: number) => Math.round(value * 10) / 10;

/** @internal The `alerts` section: alerts active now, and the transitions within the range. */
export function alertsReportSection(alerts: () => Alerts | undefined): ReportSection {
  return {
    name: 'alerts',
    title: 'Alerts',
    async collect({ from, to }): Promise<SectionContent> {
      const module = alerts();
      if (module === undefined)
        return { notes: ['The alerts module is not enabled on this instance.'] };
      const active = module.list().filter((a) => a.state === 'firing' || a.state === 'pending');
      const transitions = (await module.history(1_000)).filter((t) => {
        const at = Date.parse(t.at);
        return at >= from && at < to;
      });
      const fired = transitions.filter((t) => t.to === 'firing');
      const byRule = new Map<string, { fired: number; resolved: number; severity: string }>();
      for (const t of transitions) {
        const entry = byRule.get(t.rule) ?? { fired: 0, resolved: 0, severity: t.severity };
        if (t.to === 'firing') entry.fired += 1;
        if (t.to === 'resolved') entry.resolved += 1;
        byRule.set(t.rule, entry);
      }
      return {
        summary: `${fired.length} alert(s) fired in this range; ${active.filter((a) => a.state === 'firing').length} firing now.`,
        figures: [
          { label: 'Fired in range', value: fired.length },
          { label: 'Firing now', value: active.filter((a) => a.state === 'firing').length },
          { label: 'Pending now', value: active.filter((a) => a.state === 'pending').length },
        ],
        tables: [
          {
            title: 'Active now',
            columns: ['rule', 'state', 'severity', 'value', 'since', 'acknowledged by', 'summary'],
            rows: active.map((a) => [
              a.rule,
              a.state,
              a.severity,
              a.value,
              a.firingAt ?? a.activeAt ?? null,
              a.acknowledged?.by ?? null,
              a.annotations.summary ?? null,
            ]),
          },
          {
            title: 'By rule, in range',
            columns: ['rule', 'severity', 'fired', 'resolved'],
            rows: [...byRule].map(([rule, e]) => [rule, e.severity, e.fired, e.resolved]),
          },
        ],
        notes: ['Transitions are those kept in the alert history (the latest 1,000).'],
      };
    },
  };
}

/** @internal The `security` section: the score, its components and the recent threats. */
export function securityReportSection(security: () => Security | undefined): ReportSection {
  return {
    name: 'security',
    title: 'Security',
    collect(): SectionContent {
      const module = security();
      if (module === undefined)
        return { notes: ['The security module is not enabled on this instance.'] };
      const report = module.report(10);
      return {
        summary: `Security score ${report.score.score} / 100${report.score.low ? ' (below its threshold)' : ''}.`,
        figures: [
          { label: 'Score', value: report.score.score },
          { label: 'Threats', value: report.totals.threatCount },
          { label: 'Requests', value: report.totals.requests },
          { label: 'Rate limited', value: report.totals.rateLimited },
          { label: 'Blocked', value: report.totals.blocked },
          { label: 'Bans in force', value: report.bans.length },
        ],
        tables: [
          {
            title: 'Score components',
            columns: ['component', 'weight', 'value', 'detail'],
            rows: report.score.components.map((c) => [c.name, c.weight, round(c.value), c.detail]),
          },
          {
            title: 'Threats by category',
            columns: ['category', 'count'],
            rows: Object.entries(report.threats.byCategory).map(([k, v]) => [k, v ?? 0]),
          },
          {
            title: 'Riskiest clients',
            columns: ['client', 'risk score'],
            rows: report.clients.top.map((c) => [c.client, round(c.score)]),
          },
        ],
        notes: [
          `Security figures cover the last ${report.windowMinutes} minutes before the report was generated, not the report's range.`,
        ],
      };
    },
  };
}

// The security view: the score gauge and its components, threats by category over the last hour,
// the live events of the stream, the riskiest clients, logins, rate-limit policies, and the bans
// with the ban form. The report is read from `<mount>/security/monitoring` while the view is shown,
// every few seconds and soon after the stream reports a security event.
import { chartOptions, fromZero } from '../charts.js';
import { $, num, setText, syncTable } from '../dom.js';
import {
  fmtDateTime,
  fmtInteger,
  fmtMs,
  fmtNumber,
  fmtRatio,
  fmtTime,
  isNumber,
} from '../format.js';
import { coalesced, moduleView, oncePerBurst, readModuleJson } from '../module-view.js';
import { tabListeners } from '../tabs.js';
import { banClientButton, initSecurityActions, unbanButton } from './security-actions.js';

const REFRESH_MS = 5_000;
/** Events come in bursts (an attack): one reload for the burst. */
const EVENT_DEBOUNCE_MS = 1_000;
/** Live events kept in the table, newest first. */
const EVENTS_SHOWN = 20;
const TOP_CLIENTS = 10;

const view = moduleView('security');

/** The tone of a score against its threshold: below it is down, within ten points degraded. */
function scoreTone(score) {
  if (!isNumber(score.score)) return 'unknown';
  if (score.low || score.score < score.threshold) return 'down';
  return score.score < score.threshold + 10 ? 'degraded' : 'ok';
}

function renderScore(report) {
  const { score } = report;
  const gauge = $('security-gauge');
  // A custom property set through CSSOM: the CSP allows it where it forbids inline style markup.
  gauge.style.setProperty('--score', String(Math.max(0, Math.min(100, score.score ?? 0))));
  gauge.dataset.tone = scoreTone(score);
  gauge.setAttribute('aria-label', `Security score: ${fmtNumber(score.score)} of 100`);
  setText('security-score', fmtNumber(score.score));
  setText(
    'security-score-hint',
    `${score.low ? 'below' : 'threshold'} ${fmtNumber(score.threshold)} · over ${fmtNumber(report.windowMinutes)} min`,
  );
  syncTable(
    'security-components',
    null,
    score.components ?? [],
    (component) => component.name,
    (component) => [
      String(component.name),
      num(fmtRatio(component.weight)),
      { kind: 'ratio', ratio: component.value },
      String(component.detail ?? ''),
    ],
  );
}

function renderCards(report) {
  const { totals, logins, rateLimits } = report;
  setText('security-threats', fmtInteger(totals.threatCount));
  setText('security-threats-hint', `${fmtInteger(totals.blocked)} requests blocked`);
  setText('security-failed-logins', fmtInteger(logins.failed));
  setText(
    'security-login-rate',
    logins.attempts > 0
      ? `of ${fmtInteger(logins.attempts)} · success ${fmtRatio(logins.successRate)}`
      : 'no login recorded',
  );
  setText('security-refused', fmtInteger(totals.rateLimited));
  setText(
    'security-pressure',
    `refused · limits ×${fmtNumber(rateLimits.pressure?.multiplier)} (${rateLimits.pressure?.reason ?? ''})`,
  );
  setText('security-ban-count', fmtInteger(report.bans.length));
  setText('security-mode', `mode ${report.mode}`);
}

const WHOLE_TICKS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 1e6];

/** The threats chart: one line per category seen in the hour, redrawn when that set changes. */
let threatChart = null;
let threatCategories = '';

function renderThreatChart(series) {
  const container = $('chart-threats');
  const width = container.clientWidth;
  if (typeof window.uPlot !== 'function' || width === 0 || series.length === 0) return;
  const categories = [...new Set(series.flatMap((minute) => Object.keys(minute.threats ?? {})))];
  categories.sort();
  const data = [
    series.map((minute) => minute.at / 1000),
    ...categories.map((category) => series.map((minute) => minute.threats?.[category] ?? 0)),
  ];
  const key = categories.join(',');
  if (threatChart && key === threatCategories) {
    if (Math.abs(threatChart.width - width) > 1) threatChart.setSize({ width, height: 220 });
    threatChart.setData(data);
    return;
  }
  threatChart?.destroy();
  threatCategories = key;
  const colours = (c) => [c.s1, c.s2, c.s3, c.s4, c.s5, c.s6];
  const def = {
    series: (c) =>
      categories.map((category, i) => ({
        label: category,
        stroke: colours(c)[i % 6],
        width: 2,
        points: { show: false },
        value: (_u, v) => fmtInteger(v),
      })),
    scales: { y: fromZero },
    // Counts: whole-number ticks only.
    axes: [
      { incrs: WHOLE_TICKS, values: (_u, ticks) => ticks.map((v) => fmtInteger(v)), size: 50 },
    ],
  };
  // No category yet: an empty chart over the hour still shows that nothing happened.
  if (categories.length === 0) {
    def.series = (c) => [{ label: 'threats', stroke: c.s1, width: 2, points: { show: false } }];
    data.push(series.map(() => 0));
  }
  threatChart = new window.uPlot(chartOptions(def, width), data, container);
}

function renderTables(report) {
  const byCategory = Object.entries(report.threats.byCategory ?? {}).sort((a, b) => b[1] - a[1]);
  syncTable(
    'security-categories',
    'security-categories-empty',
    byCategory,
    ([category]) => category,
    ([category, count]) => [{ kind: 'code', text: category }, num(fmtInteger(count))],
  );
  syncTable(
    'security-clients',
    'security-clients-empty',
    report.clients.top ?? [],
    (client) => client.client,
    (client) => [
      { kind: 'code', text: String(client.client) },
      num(fmtNumber(client.score)),
      num(fmtNumber(client.threats)),
      num(fmtNumber(client.logins)),
      num(fmtNumber(client.rateLimited)),
      { kind: 'ratio', ratio: client.errorRatio },
      fmtTime(client.updatedAt),
      banClientButton(client.client),
    ],
  );
  syncTable(
    'security-login-addresses',
    'security-login-addresses-empty',
    report.logins.topAddresses ?? [],
    (address) => address.ip,
    (address) => [
      { kind: 'code', text: String(address.ip) },
      num(fmtInteger(address.failures)),
      num(fmtInteger(address.accounts)),
      address.lockedUntil ? fmtDateTime(address.lockedUntil) : '–',
    ],
  );
  syncTable(
    'security-policies',
    'security-policies-empty',
    report.rateLimits.policies ?? [],
    (policy) => policy.name,
    (policy) => [
      { kind: 'code', text: String(policy.name) },
      num(fmtInteger(policy.limit)),
      num(fmtMs(policy.windowMs)),
      num(fmtInteger(policy.allowed)),
      num(fmtInteger(policy.refused)),
      {
        kind: 'badge',
        status: policy.storeDown ? (policy.onInsurance ? 'insurance' : 'down') : 'ok',
        tone: policy.storeDown ? 'degraded' : 'ok',
      },
    ],
  );
  syncTable(
    'security-bans',
    'security-bans-empty',
    report.bans ?? [],
    (ban) => ban.client,
    (ban) => [
      { kind: 'code', text: String(ban.client) },
      String(ban.reason ?? ''),
      String(ban.source ?? ''),
      fmtDateTime(ban.until),
      unbanButton(ban, reload),
    ],
  );
}

/** One read of the report; 501 says the module is not enabled. */
async function readReport() {
  try {
    const report = await readModuleJson(`/security/monitoring?top=${TOP_CLIENTS}`);
    if (report === null) {
      view.showEnabled(false);
      view.showError('');
      return;
    }
    view.showEnabled(true);
    view.showError('');
    for (const render of [renderScore, renderCards, renderTables]) {
      try {
        render(report);
      } catch (error) {
        console.error(`dashboard: ${render.name} failed`, error);
      }
    }
    renderThreatChart(report.threats?.series ?? []);
    view.countLoad();
  } catch (error) {
    view.showError(`The security report could not be loaded: ${error.message}`);
  }
}

const reload = coalesced(readReport);

const liveEvents = [];
let eventSeq = 0;

function describeEvent(event) {
  switch (event.kind) {
    case 'threat':
      return {
        what: event.threat.category,
        client: event.threat.client,
        detail: `${event.threat.rule} in ${event.threat.location}${event.threat.blocked ? ' (blocked)' : ''}`,
      };
    case 'ban':
      return { what: 'ban', client: event.ban.client, detail: event.ban.reason };
    case 'unban':
      return { what: 'unban', client: event.client, detail: event.reason };
    case 'limits':
      return {
        what: 'limits',
        client: event.change.client ?? 'every client',
        detail: `×${fmtNumber(event.change.multiplier)}: ${event.change.reason}`,
      };
    case 'score':
      return {
        what: event.low ? 'score low' : 'score recovered',
        client: '',
        detail: `${fmtNumber(event.score)} (threshold ${fmtNumber(event.threshold)})`,
      };
    case 'dropped':
      return {
        what: 'more',
        client: '',
        detail: `${fmtInteger(event.dropped)} more events in that second: ${Object.entries(
          event.threats ?? {},
        )
          .map(([category, n]) => `${n} ${category}`)
          .join(', ')}`,
      };
    default:
      return { what: String(event.kind), client: '', detail: '' };
  }
}

function renderEvents() {
  syncTable(
    'security-events',
    'security-events-empty',
    liveEvents,
    (entry) => entry.seq,
    (entry) => [
      fmtTime(entry.event.at),
      { kind: 'badge', status: entry.what, tone: entry.tone },
      { kind: 'code', text: entry.client },
      entry.detail,
    ],
  );
}

const EVENT_TONE = { threat: 'down', ban: 'down', score: 'degraded', limits: 'degraded' };
const reloadSoon = oncePerBurst(() => void reload(), EVENT_DEBOUNCE_MS);

/** An `event: security` of the stream: listed at once, and the report read again soon after. */
export function onSecurityEvent(event) {
  const { what, client, detail } = describeEvent(event);
  liveEvents.unshift({
    seq: ++eventSeq,
    event,
    what,
    client,
    detail,
    tone: event.kind === 'score' && !event.low ? 'ok' : (EVENT_TONE[event.kind] ?? 'unknown'),
  });
  liveEvents.length = Math.min(liveEvents.length, EVENTS_SHOWN);
  if (!view.visible()) return;
  renderEvents();
  reloadSoon();
}

/** The security part of a snapshot: whether the module is there, said before the first read. */
export function renderSecuritySummary(snapshot) {
  const summary = snapshot.security;
  if (!summary) return;
  if (summary.enabled === false) view.showEnabled(false);
}

/** Loads the report when the view is shown, and keeps it fresh while it is. */
export function initSecurityView() {
  initSecurityActions(reload);
  tabListeners.add((tab) => {
    if (tab !== 'security') return;
    renderEvents();
    void reload();
  });
  setInterval(() => {
    if (view.visible()) void reload();
  }, REFRESH_MS);
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    threatChart?.destroy();
    threatChart = null;
    if (view.visible()) void reload();
  });
}

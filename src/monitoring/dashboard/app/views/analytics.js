// The analytics view: active users, top events, event counts over time, funnels, retention
// cohorts and capacity forecasts, read from `<mount>/analytics/*` when the view opens and every
// 30 s while it is shown. An instance without the analytics module answers 501: the view says so.
import { $, num, setText, syncTable } from '../dom.js';
import { fmtDateTime, fmtInteger, fmtNumber, fmtRatio, toEpochMs } from '../format.js';
import { moduleView, readModuleJson } from '../module-view.js';
import { drawChart } from '../series-chart.js';
import { tabListeners } from '../tabs.js';

const REFRESH_MS = 30_000;
/** Event series drawn besides the total. */
const CHART_EVENTS = 5;
const view = moduleView('analytics');
/** The last events answer, redrawn when the view is shown (a hidden chart has no width). */
let lastEvents = null;

function renderOverview(overview) {
  setText('analytics-dau', fmtInteger(overview.activeUsers?.day));
  setText('analytics-wau', fmtInteger(overview.activeUsers?.week));
  setText('analytics-mau', fmtInteger(overview.activeUsers?.month));
  setText('analytics-events-24h', fmtInteger(overview.events?.last24h));
  setText('analytics-events-7d', `${fmtInteger(overview.events?.last7d)} in 7 days`);
  const pipeline = overview.pipeline;
  setText(
    'analytics-pipeline',
    pipeline
      ? `${fmtInteger(pipeline.tracked)} tracked, ${fmtInteger(pipeline.buffered)} buffered${
          pipeline.storeDown ? ', store down' : ''
        }`
      : '',
  );
  syncTable(
    'analytics-top',
    'analytics-top-empty',
    overview.topEvents ?? [],
    (e) => e.event,
    (e) => [{ kind: 'code', text: e.event }, num(fmtInteger(e.count))],
  );
}

function drawEvents() {
  const events = lastEvents;
  if (!events) return;
  const t = (events.buckets ?? []).map((b) => toEpochMs(b) / 1000);
  const series = [{ label: 'all events', unit: 'count', values: events.totals ?? [] }];
  for (const s of (events.series ?? []).slice(0, CHART_EVENTS)) {
    series.push({ label: s.event, unit: 'count', values: s.counts });
  }
  drawChart('chart-analytics-events', events.total > 0 ? { t, series } : null);
  setText('analytics-events-step', `per ${events.step ?? 'hour'}`);
}

function renderFunnels(funnels) {
  const rows = [];
  for (const funnel of funnels.funnels ?? []) {
    (funnel.steps ?? []).forEach((step, index) => {
      rows.push({ funnel, step, index });
    });
  }
  syncTable(
    'analytics-funnels',
    'analytics-funnels-empty',
    rows,
    (row) => `${row.funnel.name}\u0000${row.index}`,
    ({ funnel, step, index }) => [
      index === 0 ? { kind: 'code', text: funnel.name } : '',
      `${index + 1}. ${step.event}`,
      num(fmtInteger(step.users)),
      { kind: 'ratio', ratio: step.conversion },
      index === 0 ? '' : fmtRatio(step.fromPrevious),
    ],
  );
}

function renderRetention(retention) {
  syncTable(
    'analytics-retention',
    'analytics-retention-empty',
    (retention.cohorts ?? []).filter((c) => c.size > 0),
    (c) => c.week,
    (c) => [
      c.week,
      num(fmtInteger(c.size)),
      (c.rates ?? [])
        .map((rate, week) => (week === 0 || rate === null ? '' : `w${week} ${fmtRatio(rate)}`))
        .filter(Boolean)
        .join(' · ') || '–',
    ],
  );
}

const TONES = { ok: 'ok', warning: 'degraded', critical: 'down', exceeded: 'down' };

function renderCapacity(capacity) {
  $('analytics-capacity-disabled').hidden = capacity !== null;
  $('analytics-capacity-content').hidden = capacity === null;
  if (capacity === null) return;
  syncTable(
    'analytics-capacity',
    'analytics-capacity-empty',
    capacity.resources ?? [],
    (r) => r.name,
    (r) => [
      { kind: 'code', text: r.name },
      { kind: 'badge', status: r.status, tone: TONES[r.status] ?? 'unknown' },
      num(`${fmtNumber(r.current)} / ${fmtNumber(r.limit)}${r.unit ? ` ${r.unit}` : ''}`),
      { kind: 'ratio', ratio: r.utilisation },
      r.reachesAt ? fmtDateTime(r.reachesAt) : 'not within the horizon',
      r.earliestAt || r.latestAt
        ? `${r.earliestAt ? fmtDateTime(r.earliestAt) : '–'} to ${r.latestAt ? fmtDateTime(r.latestAt) : '–'}`
        : '–',
    ],
  );
}

async function reload() {
  try {
    const overview = await readModuleJson('/analytics/overview');
    view.showEnabled(overview !== null);
    if (overview === null) {
      view.showError('');
      return;
    }
    const [events, funnels, retention, capacity] = await Promise.all([
      readModuleJson('/analytics/events'),
      readModuleJson('/analytics/funnels'),
      readModuleJson('/analytics/retention'),
      readModuleJson('/analytics/capacity'),
    ]);
    renderOverview(overview);
    lastEvents = events;
    drawEvents();
    if (funnels) renderFunnels(funnels);
    if (retention) renderRetention(retention);
    renderCapacity(capacity);
    setText('analytics-updated', `Updated ${fmtDateTime(overview.at ?? Date.now())}`);
    view.showError('');
  } catch (error) {
    view.showError(`The analytics could not be read: ${error.message}`);
  }
}

/** Loads the view when its tab is selected, then every 30 s while it is shown. */
export function initAnalyticsView() {
  tabListeners.add((tab) => {
    if (tab === 'analytics') void reload();
  });
  setInterval(() => {
    if (view.visible()) void reload();
  }, REFRESH_MS);
}
